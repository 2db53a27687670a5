import { isOpsError } from '../src/errors.js';
import { redact, redactValue } from '../src/output/redact.js';

/** Printing lives here: stdout for results, stderr for progress and errors (README, "Output"). */
export function out(text: string): void {
  process.stdout.write(`${redact(text)}\n`);
}

export function err(text: string): void {
  process.stderr.write(`${redact(text)}\n`);
}

export interface JsonEnvelope {
  command: string;
  ok: boolean;
  exitCode: number;
  durationMs: number;
  [field: string]: unknown;
}

export function printJson(doc: JsonEnvelope): void {
  process.stdout.write(`${JSON.stringify(redactValue(doc), null, 2)}\n`);
}

export interface ReportOptions {
  debug: boolean;
  json: boolean;
  command: string;
  startedAt?: number;
}

/** Print an error as `✖ what happened` / `→ what to do` and return its exit code. */
export function reportError(error: unknown, options: ReportOptions): number {
  const ops = isOpsError(error);
  const exitCode = ops ? error.exitCode : 3;
  const message = error instanceof Error ? error.message : String(error);
  const hint = ops ? error.hint : 'This looks like a bug in opsctl; run again with --debug and report the stack trace.';
  err(`✖ ${ops ? message : `Unexpected error: ${message}`}`);
  if (hint) err(`→ ${hint}`);
  if (options.debug && error instanceof Error) {
    err(error.stack ?? '');
    let cause = error.cause;
    while (cause instanceof Error) {
      err(`Caused by: ${cause.stack ?? cause.message}`);
      cause = cause.cause;
    }
  }
  if (options.json) {
    printJson({
      command: options.command,
      ok: false,
      exitCode,
      durationMs: options.startedAt ? Math.round(performance.now() - options.startedAt) : 0,
      error: { code: ops ? error.code : 'UNEXPECTED', message, hint },
    });
  }
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
