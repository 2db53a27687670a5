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
