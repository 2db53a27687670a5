import { lstat, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative } from 'node:path';
import type { CrashEvent } from './crash-event.js';
import { type CrashGroup, groupCrashes } from './fingerprint.js';
import { expandGlob } from './glob.js';
import { parseCrashes } from './parse-crashes.js';
import { hasStamp, pm2AppOf, readFailedExits } from './pm2-stamp.js';
import { readTail } from './read-tail.js';
import type { SourceLayout } from './stack.js';

/** Read at most this much of each file, from its end: recent crashes are what on-call needs. */
export const TAIL_BYTES = 8 * 1024 * 1024;
/** Scan at most this many files (the most recently written): rotated logs pile up. */
export const MAX_FILES = 40;
/** PM2 stamps and many loggers count whole seconds: an entry stamped in the second `since` falls in counts. */
const STAMP_STEP_MS = 1_000;
/** How much of a PM2 log to read to see whether PM2 stamps its lines. */
const STAMP_PEEK_BYTES = 64 * 1024;
const CONCURRENCY = 4; // bounds memory: each read holds up to TAIL_BYTES

/** Where to look: a glob relative to `base`. Optional sources (process-manager logs) may match nothing. */
export interface LogSource {
  base: string;
  pattern: string;
  /** Globs relative to `base` to leave out (the config's `!pattern` entries). */
  ignore?: string[];
  optional?: boolean;
  /** Only PM2 log files of these apps (`<app>-out.log`, `<app>-error-1.log`). */
  apps?: string[];
}

/** What a scan of the log files found. */
export interface LogScan {
  /** Configured globs that matched no file. */
  unmatched: string[];
  /** Files scanned, relative to the root (absolute when outside it). */
  files: Array<{ path: string; size: number; truncated: boolean }>;
  /** Files matched but left out because of MAX_FILES. */
  skipped: number;
  /** Files not written since `since`: nothing in them can be recent. */
  unchanged: number;
  /** Crashes since `since`, grouped by signature. */
  groups: CrashGroup[];
  /** Errors the app caught and logged since `since` (not crashes). */
  loggedErrors: number;
}

/** How to read the files: where the sources are (to name frames), and how far back entries count. */
export interface ScanOptions extends SourceLayout {
  /** Entries older than this are ignored. */
  since?: Date;
  signal?: AbortSignal;
}

/**
 * The configured `logs` globs (`!pattern` leaves files out) plus PM2's logs of the app's packages in PM2's home
 * (`.opsctl/pm2`, or `$PM2_HOME`, which may be shared with other apps: only these packages' files are read).
 */
export function logSources(root: string, patterns: string[], pm2?: { home: string; apps: string[] }): LogSource[] {
  const ignore = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return [
    ...patterns.filter((p) => !p.startsWith('!')).map((pattern) => ({ base: root, pattern, ignore })),
    ...(pm2 ? [{ base: pm2.home, pattern: 'logs/*.log', optional: true, apps: pm2.apps }] : []),
  ];
}

export async function scanLogs(sources: LogSource[], options: ScanOptions): Promise<LogScan> {
  const { root, signal } = options;
  const since = options.since && new Date(options.since.getTime() - STAMP_STEP_MS);
  const unmatched: string[] = [];
  const matched: string[] = [];
  for (const source of sources) {
    signal?.throwIfAborted();
    const files = (await expandGlob(source.base, source.pattern, source.ignore, signal)).filter(
      (f) => !/\.(gz|zip|bz2|xz)$/.test(f) && (!source.apps || source.apps.includes(pm2AppOf(basename(f))?.app ?? '')),
    );
    if (!files.length && !source.optional) unmatched.push(source.pattern);
    matched.push(...files);
  }
  const all = await oncePerFile(matched);
  const withTimes = await Promise.all([...all].map(async (file) => ({ file, mtime: (await stat(file)).mtimeMs })));
  const recent = withTimes.filter((f) => !since || f.mtime >= since.getTime());
  const chosen = recent.sort((a, b) => b.mtime - a.mtime).slice(0, MAX_FILES);
  const exits = new Map<string, Promise<Map<string, Date[]> | undefined>>();
  const results: Array<{ file: string; events: CrashEvent[]; mtime: Date; size: number; truncated: boolean }> = [];
  for (let i = 0; i < chosen.length; i += CONCURRENCY) {
    signal?.throwIfAborted();
    const batch = await Promise.all(
      chosen.slice(i, i + CONCURRENCY).map(async ({ file }) => {
        const tail = await readTail(file, TAIL_BYTES);
        const pm2 = await pm2Context(file, exits);
        const events = parseCrashes(tail.text, { ...options, ...pm2, mtime: tail.mtime }).filter(
          (e) => !since || (e.timestamp ?? tail.mtime) >= since,
        );
        return { ...tail, file: shownPath(root, file), events };
      }),
    );
    results.push(...batch);
  }
  return {
    unmatched,
    files: results.map((r) => ({ path: r.file, size: r.size, truncated: r.truncated })),
    skipped: recent.length - chosen.length,
    unchanged: withTimes.length - recent.length,
    groups: groupCrashes(results.map((r) => ({ ...r, events: r.events.filter((e) => e.kind === 'crash') }))),
    loggedErrors: results.reduce((n, r) => n + r.events.filter((e) => e.kind === 'logged').length, 0),
  };
}

/**
 * A file in a PM2 home's `logs/` folder (the home holds `pm2.log`) is one of PM2's logs of an app; the daemon's
 * log says when that app exited with a failure. Each home's `pm2.log` is read once.
 */
async function pm2Context(
  file: string,
  exits: Map<string, Promise<Map<string, Date[]> | undefined>>,
): Promise<{ pm2?: boolean; failedExits?: Date[]; stamped?: boolean }> {
  const app = pm2AppOf(basename(file));
  if (!app || basename(dirname(file)) !== 'logs') return {};
  const daemonLog = join(dirname(dirname(file)), 'pm2.log');
  if (!exits.has(daemonLog)) {
    exits.set(
      daemonLog,
      readTail(daemonLog, TAIL_BYTES).then(
        (t) => readFailedExits(t.text),
        () => undefined, // no daemon log: not a PM2 home
      ),
    );
  }
  const known = await exits.get(daemonLog);
  if (!known) return {};
  // PM2 stamps both streams of an app or neither: the other one tells when this one holds only PM2's own output
  const other = join(dirname(file), basename(file).replace(`-${app.stream}`, app.stream === 'out' ? '-error' : '-out'));
  const mine = await readTail(file, STAMP_PEEK_BYTES).catch(() => undefined);
  const theirs = await readTail(other, STAMP_PEEK_BYTES).catch(() => undefined);
  const stamped = [mine, theirs].some((t) => t && hasStamp(t.text));
  return { pm2: true, failedExits: known.get(app.app), stamped };
}

/**
 * Each file once: a symlink (`current.log -> app.log.1`) and its target matched together are one file, named by
 * the target; a link whose target was not matched keeps its own name.
 */
async function oncePerFile(files: string[]): Promise<Set<string>> {
  const byTarget = new Map<string, string>();
  for (const file of new Set(files)) {
    const target = await realpath(file).catch(() => file);
    const known = byTarget.get(target);
    if (known === undefined || !(await lstat(file)).isSymbolicLink()) byTarget.set(target, file);
  }
  return new Set(byTarget.values());
}

/** Relative to the root; a file outside it (an absolute glob such as /var/log/app/*.log) as its absolute path. */
function shownPath(root: string, file: string): string {
  const path = relative(root, file);
  return !path || path.startsWith('..') || isAbsolute(path) ? file : path;
}
