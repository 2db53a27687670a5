import { setTimeout as wait } from 'node:timers/promises';
import chalk from 'chalk';
import { ExitCode } from '../../src/errors.js';
import { entryLines, type LogEntry, textMatcher } from '../../src/logs/log-entry.js';
import { readAppLogs } from '../../src/pm2/logs.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out } from '../shared/output.js';
import { appPm2, namedPackages } from '../shared/pm2-context.js';

const FOLLOW_POLL_MS = 500;
/** One colour per package, in config order (chalk leaves them out without a TTY or with NO_COLOR). */
const COLOURS = [chalk.cyan, chalk.magenta, chalk.yellow, chalk.green, chalk.blue, chalk.red];

export interface LogsOptions extends GlobalOptions {
  lines: number;
  follow?: boolean;
  /** Milliseconds: only entries this recent. */
  since?: number;
  grep?: string;
}

/**
 * `opsctl logs [package] [--lines n] [--since d] [--grep text] [--follow]`: PM2's logs of one package, or of all
 * merged by time with a `package#instance |` prefix; JSON lines pretty-printed; redacted (README, "`opsctl logs`").
 */
export function logs(cmd: Invocation<LogsOptions>, name?: string): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const opts = cli.opts;
    // with no name, the packages PM2 runs: those with a start script
    const names = (
      name ? namedPackages(config, [name]) : config.packages.filter((p) => p.scripts.start !== undefined)
    ).map((p) => p.name);
    const home = appPm2(cli, config).home;
    const match = opts.grep === undefined ? undefined : textMatcher(opts.grep);
    const since = opts.since === undefined ? undefined : new Date(Date.now() - opts.since);
    const read = readAppLogs(home, names, { since, match });
    const entries = opts.lines ? read.entries.slice(-opts.lines) : [];
    const prefix = prefixer(names, !name);
    if (cli.json && !opts.follow) {
      const lines = entries.flatMap((e) => entryLines(e).map((l) => `${name ? '' : plainPrefix(e)}${l}`));
      return cli.finish(ExitCode.ok, {
        ...(name ? { package: name } : { packages: names }),
        files: read.files,
        lines,
        entries: entries.map(toJson),
      });
    }
    const show = (e: LogEntry) => {
      if (cli.json) return out(JSON.stringify(toJson(e)));
      for (const line of entryLines(e)) out(`${prefix(e)}${line}`);
    };
    for (const e of entries) show(e);
    if (!opts.follow) return ExitCode.ok;
    // Ctrl-C is how a follow ends: exit 130 (143 on SIGTERM) as the contract says, without an error to read
    const stopped = cli.deferSignals();
    err(`… following ${name ? `${name}'s logs` : `the logs of ${names.join(', ')}`}; Ctrl-C stops.`);
    let cursor = read.cursor;
    while (!stopped.aborted) {
      // one poll interval, or less when the follow is stopped
      if (!(await wait(FOLLOW_POLL_MS, true, { signal: stopped }).catch(() => false))) break;
      const next = readAppLogs(home, names, { match, from: cursor });
      for (const e of next.entries) show(e);
      cursor = next.cursor;
    }
    return (stopped.reason as { exitCode?: number } | undefined)?.exitCode ?? ExitCode.interrupted;
  });
}

/** `backend#1 | ` (the instance when PM2 keeps logs per instance), padded to the longest name, coloured. */
function prefixer(names: string[], merged: boolean): (e: LogEntry) => string {
  if (!merged) return () => '';
  const width = Math.max(...names.map((n) => n.length)) + 2;
  return (e) => {
    const colour = COLOURS[names.indexOf(e.package) % COLOURS.length] ?? chalk.white;
    return colour(`${label(e).padEnd(width)} | `);
  };
}

function label(e: LogEntry): string {
  return e.instance === undefined ? e.package : `${e.package}#${e.instance}`;
}

function plainPrefix(e: LogEntry): string {
  return `${label(e)} | `;
}

function toJson(e: LogEntry) {
  return {
    package: e.package,
    ...(e.instance === undefined ? {} : { instance: e.instance }),
    stream: e.stream,
    ...(e.time ? { time: e.time.toISOString() } : {}),
    ...(e.level ? { level: e.level } : {}),
    message: e.message,
    ...(e.context ? { context: e.context } : {}),
    ...(e.stack ? { stack: e.stack } : {}),
  };
}
