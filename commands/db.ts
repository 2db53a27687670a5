import type { Command } from 'commander';
import type { ResolvedConfig } from '../src/config/types.js';
import { readEmbeddedStatus, startEmbedded, stopEmbedded } from '../src/db/embedded.js';
import { ExitCode, OpsError, usageError } from '../src/errors.js';
import { type Cli, runCommand } from './context.js';
import { err, out, table } from './output.js';

/** `opsctl db start|stop|status|url`: the embedded PostgreSQL under .opsctl/pg (README, "Commands"). */
export function start(cmd: Command): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const res = await startEmbedded({ root: config.root, runner: cli.runner, onProgress: progress(cli) });
    if (!cli.json) {
      if (res.alreadyRunning) err(`PostgreSQL is already running on 127.0.0.1:${res.port}; nothing to do.`);
      else err(`✔ PostgreSQL is running on 127.0.0.1:${res.port}${res.createdDatabase ? ' (database created)' : ''}.`);
      if (config.database.source !== 'embedded') {
        err(
          `⚠ This app uses ${config.database.source === 'env' ? 'DATABASE_URL' : 'database.url'}, not the embedded database.`,
        );
      }
      out(res.url);
    }
    return cli.finish(ExitCode.ok, { ...res, running: true });
  });
}

export function stop(cmd: Command): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const res = await stopEmbedded({ root: config.root, runner: cli.runner, onProgress: progress(cli) });
    if (!cli.json) err(res.wasRunning ? '✔ PostgreSQL stopped.' : 'PostgreSQL is not running; nothing to do.');
    return cli.finish(ExitCode.ok, { ...res, running: false });
  });
}

export function status(cmd: Command): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const s = readEmbeddedStatus(config.root);
    if (!cli.json) {
      const state = s.running ? 'running' : s.initialised ? 'stopped' : 'not initialised (run `opsctl db start`)';
      out(
        table([
          ['state', state],
          ['port', s.port ? String(s.port) : '-'],
          ['data', s.dataDir],
          ['url', s.url ?? '-'],
        ]),
      );
    }
    return cli.finish(ExitCode.ok, {
      running: s.running,
      initialised: s.initialised,
      port: s.port ?? null,
      dataDir: s.dataDir,
      url: s.url ?? null,
    });
  });
}

export function url(cmd: Command): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const value = config.database.url;
    if (!value) {
      throw new OpsError(
        'DB_NO_URL',
        'No database URL: nothing is configured and the embedded PostgreSQL was never started.',
        {
          hint: 'Run `opsctl db start`, or set database.url / DATABASE_URL.',
          exitCode: ExitCode.failed,
        },
      );
    }
    if (!cli.opts.showPassword) {
      out(value); // out() masks the password
      return cli.finish(ExitCode.ok, { url: value, source: config.database.source });
    }
    // the one place a password is printed on purpose: straight to stdout, never through a logger
    const doc = cli.json
      ? `${JSON.stringify({ command: cli.name, ok: true, exitCode: 0, durationMs: Math.round(performance.now() - cli.startedAt), url: value, source: config.database.source }, null, 2)}`
      : value;
    process.stdout.write(`${doc}\n`);
    return ExitCode.ok;
  });
}

/** The embedded database is for local use only (README, "Commands"). */
function localConfig(cli: Cli): ResolvedConfig {
  const config = cli.config();
  if (config.envName === 'production') {
    throw usageError(
      'opsctl db manages a local development database and is not available under --env production.',
      'Point database.url (environments.production) or DATABASE_URL at your production PostgreSQL instead.',
    );
  }
  return config;
}

function progress(cli: Cli): ((message: string) => void) | undefined {
  return cli.json ? undefined : (message) => err(`… ${message}`);
}
