import { loadConfig } from '../../src/config/load.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { readEmbeddedUrl } from '../../src/db/embedded-state.js';
import { ExitCode, type ExitCodeValue, OpsError } from '../../src/errors.js';
import { addUrlPassword, onSecret } from '../../src/output/redact.js';
import { selectPackages } from '../../src/packages/discover.js';
import { createRunner, type Runner } from '../../src/process/runner.js';
import type { RendererKind } from '../../src/tasks/run.js';
import {
  envelope,
  err,
  errorJson,
  exitCodeOf,
  printError,
  printJson,
  releaseStdout,
  reportError,
  routeConsoleToStderr,
} from './output.js';

/** The global options of the README ("Commands": global options), as every command sees them. */
export interface GlobalOptions {
  cwd?: string;
  config?: string;
  env?: string;
  json?: boolean;
  package?: string[];
  concurrency?: number;
  yes?: boolean;
  dryRun?: boolean;
  debug?: boolean;
  color?: boolean;
}

/**
 * What the lazy loader hands an action: the command as the user typed it and its options (its own and the global
 * ones), typed from the declaration in the family's index.ts.
 */
export interface Invocation<Options = GlobalOptions> {
  /** As typed: "migrate" for `opsctl migrate`, "migrate up" for `opsctl migrate up` (README, "JSON shapes"). */
  name: string;
  opts: Options;
}

export interface Cli<Options extends GlobalOptions = GlobalOptions> {
  name: string;
  opts: Options;
  json: boolean;
  debug: boolean;
  renderer: RendererKind;
  startedAt: number;
  runner: Runner;
  /** Load and resolve the config; `--package` narrows `packages`. */
  config(): ResolvedConfig;
  /** Print a JSON document (with the envelope) when --json, and return exitCode. */
  finish(exitCode: ExitCodeValue, fields: Record<string, unknown>): number;
  /** A failure part-way: the error on stderr, under --json the fields so far plus the error; returns its exit code. */
  fail(error: unknown, fields: Record<string, unknown>): ExitCodeValue;
  /**
   * Opt in to finishing after SIGINT/SIGTERM instead of exiting at once: the returned signal is aborted with the
   * interrupt as its `reason` (an OpsError, exit code 130 or 143), and the command must clean up and report that
   * reason as its error. runCommand waits for the body to settle, at most `graceMs`; a second signal, or the grace
   * running out, exits at once the old way.
   */
  deferSignals(graceMs?: number): AbortSignal;
  /**
   * What the command has done so far, for the document of a run that a signal ends at once (a pipeline's steps):
   * set it to have those fields beside the error.
   */
  soFar?: () => Record<string, unknown>;
  /**
   * What a signal that ends the run at once leaves behind, for its hint instead of "Run the command again when ready"
   * (a redo whose down step committed: running it again would redo another migration). Undefined keeps that hint.
   */
  interruptHint?: () => string | undefined;
  /**
   * Called when a signal ends the run at once, before its error is reported: close what the output left open (a
   * pipeline step's GitHub Actions group, README "Pipelines").
   */
  onSignalExit?: (error: OpsError) => void;
}

/** How long an interrupted command that deferred signals may take to clean up (deploy puts a release back). */
export const SIGNAL_GRACE_MS = 60_000;

/**
 * Interactive prompts only when stdin and stderr are TTYs and CI is unset, and not inside a pipeline's step (the
 * pipeline holds the terminal; the step asks for `--yes` instead, README "Pipelines").
 */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY && !process.env.CI && !inStep);
}

let announcingSecrets = false;

export function createCli<Options extends GlobalOptions>(
  invocation: Invocation<Options>,
  deferSignals: (graceMs?: number) => AbortSignal = () => new AbortController().signal,
): Cli<Options> {
  const { name, opts } = invocation;
  const json = Boolean(opts.json);
  const debug = Boolean(opts.debug);
  // once per process: a pipeline's steps are commands too, and each secret is announced once
  if (process.env.GITHUB_ACTIONS === 'true' && !announcingSecrets) {
    announcingSecrets = true;
    onSecret((s) => process.stderr.write(`::add-mask::${s}\n`));
  }
  const startedAt = performance.now();
  let config: ResolvedConfig | undefined;
  const finish = (exitCode: number, fields: Record<string, unknown>) => {
    if (json) printJson(envelope(name, exitCode, startedAt, fields));
    return exitCode;
  };
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
        config = { ...loaded, packages: selectPackages(loaded.packages, opts.package), appPackages: loaded.packages };
        // a URL written in the config file is no environment value: its password is learned here
        for (const url of [config.database.url, config.redis.url]) if (url) addUrlPassword(url);
        for (const warning of loaded.warnings) if (!json) err(`⚠ ${warning}`);
      }
      return config;
    },
    finish,
    fail(error, fields) {
      printError(error, debug);
      const exitCode = exitCodeOf(error);
      finish(exitCode, { ...fields, error: errorJson(error) });
      return exitCode;
    },
    deferSignals,
  };
}

/** Run a command body; an OpsError becomes its printed message and exit code. */
export async function runCommand<Options extends GlobalOptions>(
  invocation: Invocation<Options>,
  body: (cli: Cli<Options>) => Promise<number>,
): Promise<number> {
  if (host) return runNestedCommand(host, invocation, body);
  const controller = new AbortController();
  let graceMs: number | undefined; // set when the body opted in to finishing after a signal
  let graceTimer: NodeJS.Timeout | undefined;
  const cli = createCli(invocation, (ms = SIGNAL_GRACE_MS) => {
    graceMs = ms;
    return controller.signal;
  });
  host = {
    defer(ms) {
      graceMs = ms;
      return controller.signal;
    },
    undefer() {
      graceMs = undefined;
    },
  };
  const exitNow = (error: OpsError) => {
    releaseStdout(); // a pipeline step's document was being captured: the pipeline's own goes to stdout
    if (process.stderr.isTTY) process.stderr.write('\u001b[?25h'); // the live renderer hides the cursor
    cli.onSignalExit?.(error);
    const hint = cli.interruptHint?.();
    const reported = hint ? new OpsError(error.code, error.message, { hint, exitCode: error.exitCode }) : error;
    if (cli.soFar) process.exit(cli.fail(reported, cli.soFar()));
    process.exit(reportError(reported, { debug: false, json: cli.json, command: cli.name, startedAt: cli.startedAt }));
  };
  // a signal ends the run through the one error path: `✖ Interrupted.`, and under --json still one document
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => {
    // a command that handles SIGTERM itself (deploy --foreground stops its children first) keeps it; one that
    // deferred signals is handled here even though a library (signal-exit) listens too
    if (signal === 'SIGTERM' && graceMs === undefined && process.listenerCount('SIGTERM') > 1) return;
    const error = interruptError(signal);
    if (graceMs === undefined || controller.signal.aborted) exitNow(error);
    controller.abort(error);
    graceTimer = setTimeout(() => exitNow(error), graceMs);
  };
  const onSigint = () => onSignal('SIGINT');
  const onSigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  const restoreConsole = routeConsoleToStderr();
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
    host = undefined;
    clearTimeout(graceTimer);
    restoreConsole();
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigterm);
  }
}

/** The outermost running command, which owns the signal handlers (README, "Pipelines"). */
interface SignalHost {
  /** A nested command opts in to finishing after a signal: the host defers to it while it runs. */
  defer(graceMs: number): AbortSignal;
  undefer(): void;
}

let host: SignalHost | undefined;
let inStep = false;

/**
 * A command run inside another (a pipeline's step, in the same process): the outer command's signal handlers serve
 * it, so one Ctrl-C is reported once; a step that defers signals (deploy) still gets to clean up.
 */
async function runNestedCommand<Options extends GlobalOptions>(
  outer: SignalHost,
  invocation: Invocation<Options>,
  body: (cli: Cli<Options>) => Promise<number>,
): Promise<number> {
  const cli = createCli(invocation, (ms = SIGNAL_GRACE_MS) => outer.defer(ms));
  inStep = true;
  try {
    return await body(cli);
  } catch (error) {
    return reportError(error, { debug: cli.debug, json: cli.json, command: cli.name, startedAt: cli.startedAt });
  } finally {
    inStep = false;
    outer.undefer();
  }
}

function interruptError(signal: 'SIGINT' | 'SIGTERM'): OpsError {
  const interrupted = signal === 'SIGINT';
  return new OpsError(
    interrupted ? 'INTERRUPTED' : 'TERMINATED',
    interrupted ? 'Interrupted.' : 'Terminated (SIGTERM).',
    {
      hint: 'Run the command again when ready.',
      exitCode: interrupted ? ExitCode.interrupted : ExitCode.terminated,
    },
  );
}
