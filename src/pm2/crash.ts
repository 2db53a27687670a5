/** What PM2's process container prints when it swallows an unhandled rejection (it does not exit on one). */
const PM2_REJECTION = 'You have triggered an unhandledRejection';
const ESM_LOADER_FRAME = /\(node:internal\/modules\/esm\//;
const ERROR_LINE = /^\s*(?:\w*Error\b|Error\b)/;
const STACK_WINDOW = 40; // lines after the marker that may belong to its stack trace

/**
 * A release whose code failed to load, read from its new log lines (already redacted): the error line, or
 * undefined. An ES module that throws while loading (a top-level throw, a syntax error, a missing import) rejects
 * PM2's `import()` of it; in cluster mode PM2 logs that and keeps the instance "online" without it ever listening,
 * so neither restart counts nor states show the crash.
 */
export function importFailureIn(lines: string[]): string | undefined {
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.includes(PM2_REJECTION)) continue;
    const stack = lines.slice(i + 1, i + 1 + STACK_WINDOW);
    const end = stack.findIndex((l) => l.includes(PM2_REJECTION));
    const own = end < 0 ? stack : stack.slice(0, end);
    if (!own.some((l) => ESM_LOADER_FRAME.test(l))) continue;
    return (own.find((l) => ERROR_LINE.test(l)) ?? own[0] ?? 'an error').trim();
  }
  return undefined;
}

const STACK_FRAME = /^\s+at\s/;
const LOG_STAMP = /^\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:?\d\d)?: /;

/**
 * The same for a fork-mode process (deploy's candidate): PM2's fork container `import()`s the module and, when that
 * rejects, prints the bare stack and keeps the process "online". A stack through Node's ES module loader in the
 * release's own log lines is that failure: its error line, or undefined.
 */
export function forkImportFailureIn(stamped: string[]): string | undefined {
  const lines = stamped.map((l) => l.replace(LOG_STAMP, ''));
  const frame = lines.findIndex((l) => STACK_FRAME.test(l) && ESM_LOADER_FRAME.test(l));
  if (frame < 0) return undefined;
  let start = frame;
  while (start > 0 && STACK_FRAME.test(lines[start]!)) start--;
  return lines[start]!.trim() || 'an error';
}

/** The first error line (`TypeError: …`) among a process's log lines, without PM2's time stamp, or undefined. */
export function firstErrorIn(stamped: string[]): string | undefined {
  const line = stamped.map((l) => l.replace(LOG_STAMP, '')).find((l) => ERROR_LINE.test(l));
  return line?.trim();
}
