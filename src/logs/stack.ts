import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `TypeError: msg`, `Error [ERR_X]: msg`, `UnhandledPromiseRejection: msg`, anywhere on a line. */
const ERROR_HEADER =
  /(?:^|[\s:[(])((?:[A-Z][\w$]*)?(?:Error|Exception|UnhandledPromiseRejection))(?: \[[\w.-]+\])?: (.*)$/;
// a last frame may end in " {" when Node prints the error's own properties after the stack
const FRAME = /^\s*at (?:async )?(?:.*? \()?(.+?):(\d+):\d+\)?(?: \{)?\s*$/;

/**
 * What is written for an error that nobody caught: the names of the two process events, as Node, PM2 and handlers
 * on them write them (`uncaughtException`, "You have triggered an unhandledRejection", "Unhandled rejection:",
 * "uncaught exception"). Not "unhandled" or "uncaught" alone: "unhandled status 503" is a handled error.
 */
const CRASH_MARK = /\b(?:uncaught[ _-]?exception|unhandled[ _-]?(?:promise[ _-]?)?rejection)s?\b/i;

/** A log line names an uncaught exception or an unhandled rejection. */
export function hasCrashMark(text: string): boolean {
  return CRASH_MARK.test(text);
}

/** One line is the first line of an error's printout (its type and message), when it matches. */
export function parseErrorHeader(line: string): { type: string; message: string; prefix: string } | undefined {
  const match = ERROR_HEADER.exec(line);
  if (!match) return undefined;
  return { type: match[1]!, message: match[2]!.trim(), prefix: line.slice(0, match.index) };
}

export function isFrameLine(line: string | undefined): boolean {
  return line !== undefined && /^\s+at\s/.test(line);
}

/**
 * A frame as shown to people: trimmed, without the " {" that opens the error's properties, its file named as in
 * the source tree (`at show (backend/routes/orders.js:2:38)`).
 */
export function cleanFrame(line: string, layout?: SourceLayout): string {
  const clean = line.trim().replace(/ \{$/, '');
  const file = layout && FRAME.exec(line)?.[1];
  return file ? clean.replace(file, displayPath(file, layout)) : clean;
}

/** Where the app's sources are: its root and its packages (name and folder relative to the root). */
export interface SourceLayout {
  root: string;
  packages?: ReadonlyArray<{ name: string; path: string }>;
}

/**
 * The frame that identifies where an error came from: the first one outside Node's internals
 * (`node:internal/...` says nothing about the app), shown as `path:line` relative to the app root.
 */
export function topFrame(frames: string[], layout: SourceLayout): string | undefined {
  const locations = frames.flatMap((f) => {
    const m = FRAME.exec(f);
    return m ? [{ file: m[1]!, line: m[2]! }] : [];
  });
  const chosen = locations.find((l) => !l.file.startsWith('node:')) ?? locations[0];
  return chosen ? `${displayPath(chosen.file, layout)}:${chosen.line}` : undefined;
}

/** A deployed copy of a package: `.opsctl/releases/<package>/<release id or current>/<file>`. */
const RELEASE_COPY = /^\.opsctl\/releases\/([^/]+)\/(?:[0-9a-f]{12}|current)\/(.+)$/;

/**
 * Paths inside the app are shown relative to its root; `file://` URLs as paths; a file of a release copy as the
 * source file it was copied from (`backend/routes/orders.js`), which is what people edit and which outlives the
 * release folder.
 */
export function displayPath(file: string, layout: SourceLayout): string {
  const path = file.replace(/^file:\/\//, '');
  if (!isAbsolute(path)) return path;
  const rel = relative(layout.root, path).replace(/\\/g, '/');
  if (!rel || rel.startsWith('..')) return path;
  const copy = RELEASE_COPY.exec(rel);
  if (!copy) return rel;
  const dir = sourceDir(copy[1]!, layout);
  return dir ? `${dir}/${copy[2]}` : copy[2]!;
}

/** The folder (relative to the app root, no slashes around it) a package's release copies come from. */
function sourceDir(name: string, layout: SourceLayout): string {
  const pkg = layout.packages?.find((p) => p.name === name);
  return pkg ? pkg.path.replace(/^\.\/?|\/$/g, '') : name;
}

/**
 * Every path into a release copy inside a text (a log line, an error message), as a path or a `file://` URL, named
 * as its source file relative to the app root (`backend/src/app.js:43`), as displayPath names one file.
 */
export function sourcePathsIn(text: string, layout: SourceLayout): string {
  if (!text.includes('.opsctl/releases/')) return text;
  const roots = new Set([layout.root]);
  try {
    roots.add(realpathSync(layout.root)); // Node names a module by its real path
  } catch {
    // the root is gone: its own spelling is all there is
  }
  const prefixes = [...roots].flatMap((r) => [`file://${pathToFileURL(r).pathname}`, `file://${r}`, r]);
  const copy = new RegExp(
    `(?:${prefixes.map(escapeRegExp).join('|')})/\\.opsctl/releases/([^/\\s]+)/(?:[0-9a-f]{12}|current)/`,
    'g',
  );
  return text.replace(copy, (_, name: string) => {
    const dir = sourceDir(name, layout);
    return dir ? `${dir}/` : '';
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const TIMESTAMP = /\b(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)/;

/** The first ISO-8601-like timestamp on a line (loggers and PM2 `--time` put one in front). */
export function lineTimestamp(line: string): Date | undefined {
  const match = TIMESTAMP.exec(line);
  if (!match) return undefined;
  const date = new Date(match[1]!.replace(',', '.').replace(' ', 'T'));
  return Number.isNaN(date.getTime()) ? undefined : date;
}
