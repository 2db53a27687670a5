import type { Command } from 'commander';
import { loadConfig } from '../src/config/load.js';
import type { ResolvedConfig } from '../src/config/types.js';
import { readEmbeddedUrl } from '../src/db/embedded-state.js';
import { onSecret } from '../src/output/redact.js';
import { selectPackages } from '../src/packages/discover.js';
import { createRunner, type Runner } from '../src/process/runner.js';
import type { RendererKind } from '../src/tasks/run.js';
import { err, type JsonEnvelope, printJson, reportError } from './output.js';

/** The global options of the README ("Commands": global options), as every command sees them. */
export interface GlobalOptions {
  cwd?: string;
  config?: string;
  env?: string;
  json?: boolean;
  package?: string[];
  concurrency?: number;
  yes?: boolean;
  debug?: boolean;
  color?: boolean;
}

export interface Cli {
  name: string;
  opts: GlobalOptions & Record<string, unknown>;
  json: boolean;
  debug: boolean;
  renderer: RendererKind;
  startedAt: number;
  runner: Runner;
  /** Load and resolve the config; `--package` narrows `packages`. */
  config(): ResolvedConfig;
  /** Print a JSON document (with the envelope) when --json, and return exitCode. */
  finish(exitCode: number, fields: Record<string, unknown>): number;
}

/** Interactive prompts only when stdin and stderr are TTYs and CI is unset. */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY && !process.env.CI);
}

export function createCli(cmd: Command): Cli {
  const opts = cmd.optsWithGlobals() as Cli['opts'];
  const name = commandPath(cmd);
  const json = Boolean(opts.json);
  const debug = Boolean(opts.debug);
  if (process.env.GITHUB_ACTIONS === 'true') onSecret((s) => process.stderr.write(`::add-mask::${s}\n`));
  const startedAt = performance.now();
  let config: ResolvedConfig | undefined;
  return {
    name,
    opts,
    json,
    debug,
    startedAt,
    renderer: json ? 'silent' : process.env.CI || !process.stderr.isTTY ? 'plain' : 'default',
    runner: createRunner(debug ? (line) => err(line) : undefined),
    config() {
      if (!config) {
        const loaded = loadConfig({
          cwd: opts.cwd,
          config: opts.config,
          env: opts.env,
          embeddedDatabaseUrl: readEmbeddedUrl,
        });
        const names = opts.package?.flatMap((n) => n.split(',')).filter(Boolean);
        config = { ...loaded, packages: selectPackages(loaded.packages, names) };
        for (const warning of loaded.warnings) if (!json) err(`⚠ ${warning}`);
      }
      return config;
    },
    finish(exitCode, fields) {
      if (json) {
        const doc: JsonEnvelope = {
          command: name,
          ok: exitCode === 0,
          exitCode,
          durationMs: Math.round(performance.now() - startedAt),
          ...fields,
        };
        printJson(doc);
      }
      return exitCode;
    },
  };
}

/** The command as the user typed it: `opsctl migrate` is "migrate", though its default subcommand `up` runs. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) {
    // commander keeps the default subcommand's name privately; `args[0]` is the subcommand name when typed
    const implicit =
      (c.parent as { _defaultCommandName?: string })._defaultCommandName === c.name() && c.parent.args[0] !== c.name();
    if (!implicit) names.unshift(c.name());
  }
  return names.join(' ');
}

/** Run a command body; an OpsError becomes its printed message and exit code. */
export async function runCommand(cmd: Command, body: (cli: Cli) => Promise<number>): Promise<number> {
  const cli = createCli(cmd);
  const onSigint = () => {
    if (process.stderr.isTTY) process.stderr.write('\u001b[?25h'); // the live renderer hides the cursor
    err('✖ Interrupted.');
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    return await body(cli);
  } catch (error) {
    return reportError(error, {
      debug: cli.debug,
      json: cli.json,
      command: cli.name,
      startedAt: cli.startedAt,
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
