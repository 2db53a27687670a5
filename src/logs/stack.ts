import { isAbsolute, relative } from 'node:path';

/** `TypeError: msg`, `Error [ERR_X]: msg`, `UnhandledPromiseRejection: msg`, anywhere on a line. */
const ERROR_HEADER =
  /(?:^|[\s:[(])((?:[A-Z][\w$]*)?(?:Error|Exception|UnhandledPromiseRejection))(?: \[[\w.-]+\])?: (.*)$/;
// a last frame may end in " {" when Node prints the error's own properties after the stack
const FRAME = /^\s*at (?:async )?(?:.*? \()?(.+?):(\d+):\d+\)?(?: \{)?\s*$/;

/** One line is the first line of an error's printout (its type and message), when it matches. */
export function parseErrorHeader(line: string): { type: string; message: string; prefix: string } | undefined {
  const match = ERROR_HEADER.exec(line);
  if (!match) return undefined;
  return { type: match[1]!, message: match[2]!.trim(), prefix: line.slice(0, match.index) };
}

export function isFrameLine(line: string | undefined): boolean {
  return line !== undefined && /^\s+at\s/.test(line);
}

/** A frame as shown to people: trimmed, without the " {" that opens the error's properties. */
export function cleanFrame(line: string): string {
  return line.trim().replace(/ \{$/, '');
}

/**
 * The frame that identifies where an error came from: the first one outside Node's internals
 * (`node:internal/...` says nothing about the app), shown as `path:line` relative to the app root.
 */
export function topFrame(frames: string[], root: string): string | undefined {
  const locations = frames.flatMap((f) => {
    const m = FRAME.exec(f);
    return m ? [{ file: m[1]!, line: m[2]! }] : [];
  });
  const chosen = locations.find((l) => !l.file.startsWith('node:')) ?? locations[0];
  return chosen ? `${displayPath(chosen.file, root)}:${chosen.line}` : undefined;
}

/** Paths inside the app are shown relative to its root; `file://` URLs as paths. */
export function displayPath(file: string, root: string): string {
  const path = file.replace(/^file:\/\//, '');
  if (!isAbsolute(path)) return path;
  const rel = relative(root, path);
  return rel && !rel.startsWith('..') ? rel : path;
}

const TIMESTAMP = /\b(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/;

/** The first ISO-8601-like timestamp on a line (loggers and PM2 `--time` put one in front). */
export function lineTimestamp(line: string): Date | undefined {
  const match = TIMESTAMP.exec(line);
  if (!match) return undefined;
  const date = new Date(match[1]!.replace(',', '.').replace(' ', 'T'));
  return Number.isNaN(date.getTime()) ? undefined : date;
}
