import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { entryLines, type LogEntry, type LogOrigin, parseLogLines } from '../logs/log-entry.js';
import { pm2AppOf } from '../logs/pm2-stamp.js';
import { type SourceLayout, sourcePathsIn } from '../logs/stack.js';
import { redact } from '../output/redact.js';

const TAIL_BYTES = 64 * 1024;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;

/** PM2's log files of an app (merged across instances): stdout and stderr. */
export function pm2LogFiles(home: string, name: string): string[] {
  return [join(home, 'logs', `${name}-out.log`), join(home, 'logs', `${name}-error.log`)];
}

/**
 * PM2 opens its log files with `fs.createWriteStream(file, { flags: 'a' })` (lib/Utility.js, startLogging): mode
 * 0666 less the daemon's umask, and an existing file keeps its mode. So opsctl creates the package's files 0600
 * before PM2 opens them, chmods those already there (pm2.log included) to 0600 and the folder to 0700 (README,
 * "Deploy"): they hold whatever the app prints.
 */
export function secureLogs(home: string, names: string[] = []): void {
  const dir = join(home, 'logs');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    for (const file of names.flatMap((n) => pm2LogFiles(home, n))) closeSync(openSync(file, 'a', 0o600));
    const files = [...readdirSync(dir).map((f) => join(dir, f)), join(home, 'pm2.log')];
    for (const file of files) if (existsSync(file) && statSync(file).isFile()) chmodSync(file, 0o600);
  } catch {
    // a home PM2 cannot use fails PM2's own command, with the reason (verifyHomeUsable)
  }
}

/** Sizes of the log files now, to read only what a new release writes. */
export function logOffsets(files: string[]): number[] {
  return files.map((f) => (existsSync(f) ? statSync(f).size : 0));
}

/**
 * The last `n` lines of the files (from `offsets` on), redacted; with a `layout`, paths into release copies are
 * named as the source files (`backend/src/app.js:43`).
 */
export function readLogTail(files: string[], n: number, offsets?: number[], layout?: SourceLayout): string[] {
  const lines: Array<{ at: string; text: string }> = [];
  files.forEach((file, i) => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    const from = Math.max(offsets?.[i] ?? 0, size - TAIL_BYTES);
    if (size <= from) return;
    const buf = Buffer.alloc(size - from);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    let at = '';
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      at = TIMESTAMP.exec(line)?.[0] ?? at; // a stack trace's lines keep the time of the line that started it
      lines.push({ at, text: redact(layout ? sourcePathsIn(line, layout) : line) });
    }
  });
  // PM2 stamps each write (`log_date_format`, one zone per app): merge stdout and stderr by it (a stable sort keeps
  // each file's order)
  return lines
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .slice(-n)
    .map((l) => l.text);
}

/** How much of each file `opsctl logs` reads: many screens of recent lines, bounded for huge logs. */
const APP_LOG_TAIL_BYTES = 1024 * 1024;

/** PM2's log files of these apps: merged across instances (`backend-out.log`) or per instance (`backend-out-1.log`). */
export function appLogFiles(home: string, names: string[]): Array<{ file: string; origin: LogOrigin }> {
  const dir = join(home, 'logs');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const app = pm2AppOf(name);
      if (!app || !names.includes(app.app)) return [];
      return [{ file: join(dir, name), origin: { package: app.app, instance: app.instance, stream: app.stream } }];
    });
}

/**
 * What to read: entries since a time, whose text as shown (time, level, message, stack) matches; `from` holds where
 * each file was read up to before.
 */
export interface AppLogQuery {
  since?: Date;
  match?: (text: string) => boolean;
  from?: Map<string, number>;
}

/**
 * The entries of the apps' PM2 logs, redacted, merged by time (PM2's stamps), filtered by the query;
 * `cursor` is where each file ends now, to read only what comes next (`--follow`).
 */
export function readAppLogs(
  home: string,
  names: string[],
  query: AppLogQuery = {},
): { files: string[]; entries: LogEntry[]; cursor: Map<string, number> } {
  const files = appLogFiles(home, names);
  const cursor = new Map<string, number>();
  const entries: LogEntry[] = [];
  for (const { file, origin } of files) {
    const { size, mtime } = statSync(file);
    cursor.set(file, size);
    if (query.since && mtime < query.since) continue;
    const start = query.from ? (query.from.get(file) ?? 0) : Math.max(0, size - APP_LOG_TAIL_BYTES);
    if (size <= start) continue;
    let text = readRange(file, start, size);
    if (!query.from && start > 0) text = text.slice(text.indexOf('\n') + 1); // a cut first line is a fragment
    for (const entry of parseLogLines(text, origin)) {
      const shown = {
        ...entry,
        message: redact(entry.message),
        context: entry.context === undefined ? undefined : redact(entry.context),
        stack: entry.stack?.map((l) => redact(l)),
      };
      if (!shown.stack) delete shown.stack;
      if (shown.context === undefined) delete shown.context;
      if (query.since && shown.time && shown.time < query.since) continue;
      if (query.match && !query.match(entryLines(shown).join('\n'))) continue;
      entries.push(shown);
    }
  }
  // a stable sort: lines of one file keep their order; lines without any time come first
  entries.sort((a, b) => (a.time?.getTime() ?? 0) - (b.time?.getTime() ?? 0));
  return { files: files.map((f) => f.file), entries, cursor };
}

function readRange(file: string, start: number, end: number): string {
  const buf = Buffer.alloc(end - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}
