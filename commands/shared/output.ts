import { formatWithOptions } from 'node:util';
import { ExitCode, type ExitCodeValue, isOpsError } from '../../src/errors.js';
import { redact, redactValue } from '../../src/output/redact.js';

/** Printing lives here: stdout for results, stderr for progress and errors (README, "Output"). */
export function out(text: string): void {
  process.stdout.write(`${redact(text)}\n`);
}

export function err(text: string): void {
  process.stderr.write(`${redact(text)}\n`);
}

const CONSOLE_METHODS = ['log', 'info', 'debug', 'warn', 'error', 'trace', 'dir'] as const;

/**
 * While a command runs, whatever code it loads prints through `console` (a JS migration's `console.log`, a
 * library's warning) goes to stderr, redacted: stdout is opsctl's result alone (README, "Output"). opsctl itself
 * never prints through console. Returns the function that puts console back.
 */
export function routeConsoleToStderr(): () => void {
  const saved = CONSOLE_METHODS.map((name) => [name, console[name]] as const);
  for (const name of CONSOLE_METHODS) {
    console[name] = (...args: unknown[]) => err(formatWithOptions({ colors: false }, ...args));
  }
  return () => {
    for (const [name, method] of saved) console[name] = method as never;
  };
}

let capturing: { restore(): void } | undefined;

/**
 * Collect what is written to stdout until `stop()`, which puts stdout back and returns the text: a pipeline step's
 * JSON document becomes the `result` of the pipeline's (README, "Pipelines").
 */
export function captureStdout(): { stop(): string } {
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    done?.();
    return true;
  }) as typeof process.stdout.write;
  capturing = {
    restore: () => {
      process.stdout.write = write;
      capturing = undefined;
    },
  };
  return {
    stop() {
      capturing?.restore();
      return chunks.join('');
    },
  };
}

/** Put stdout back if a capture is running (an interrupted pipeline prints its own document). */
export function releaseStdout(): void {
  capturing?.restore();
}

/** What every JSON document starts with (README, "JSON shapes"). */
export interface JsonEnvelope {
  command: string;
  ok: boolean;
  exitCode: number;
  durationMs: number;
  [field: string]: unknown;
}

/** The `error` field of a failure document: `{code, message, hint}` (README, "Output"). */
export interface JsonError {
  code: string;
  message: string;
  hint?: string;
  /** More fields an error names (a lock's `holder`). */
  [field: string]: unknown;
}

/** A document with the envelope; `startedAt` is the command's `performance.now()` at start. */
export function envelope(
  command: string,
  exitCode: number,
  startedAt: number | undefined,
  fields: Record<string, unknown>,
): JsonEnvelope {
  const durationMs = startedAt === undefined ? 0 : Math.round(performance.now() - startedAt);
  return { command, ok: exitCode === ExitCode.ok, exitCode, durationMs, ...fields };
}

export function printJson(doc: JsonEnvelope): void {
  process.stdout.write(`${JSON.stringify(redactValue(doc), null, 2)}\n`);
}

const BUG_HINT = 'This looks like a bug in opsctl; run again with --debug and report the stack trace.';

/** The exit code an error stands for: an OpsError's own, anything else is an operation that failed. */
export function exitCodeOf(error: unknown): ExitCodeValue {
  return isOpsError(error) ? error.exitCode : ExitCode.failed;
}

export function errorJson(error: unknown): JsonError {
  const message = error instanceof Error ? error.message : String(error);
  return isOpsError(error)
    ? { ...error.details, code: error.code, message, hint: error.hint }
    : { code: 'UNEXPECTED', message, hint: BUG_HINT };
}

/** `✖ what happened` / `→ what to do` on stderr; under --debug the stack and every cause too. */
export function printError(error: unknown, debug = false): void {
  const { message, hint } = errorJson(error);
  err(`✖ ${isOpsError(error) ? message : `Unexpected error: ${message}`}`);
  if (hint) err(`→ ${hint}`);
  if (!debug || !(error instanceof Error)) return;
  err(error.stack ?? '');
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause) {
    err(`Caused by: ${cause.stack ?? cause.message}`);
  }
}

export interface ReportOptions {
  debug: boolean;
  json: boolean;
  command: string;
  startedAt?: number;
}

/** Print an error, and under --json its failure document on stdout; returns its exit code. */
export function reportError(error: unknown, options: ReportOptions): ExitCodeValue {
  const exitCode = exitCodeOf(error);
  printError(error, options.debug);
  if (options.json) printJson(envelope(options.command, exitCode, options.startedAt, { error: errorJson(error) }));
  return exitCode;
}

/** A plain text table; columns padded to the widest cell. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths = all[0]?.map((_, i) => Math.max(...all.map((r) => visibleLength(r[i] ?? '')))) ?? [];
  return all
    .map((r) =>
      r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell)))).join('  '),
    )
    .join('\n');
}

function visibleLength(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
  return text.replace(/\u001b\[[0-9;]*m/g, '').length;
}
