import { lstat, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { type CrashGroup, groupCrashes } from './fingerprint.js';
import { expandGlob } from './glob.js';
import { parseCrashes } from './parse-crashes.js';
import { readTail } from './read-tail.js';

/** Read at most this much of each file, from its end: recent crashes are what on-call needs. */
export const TAIL_BYTES = 8 * 1024 * 1024;
/** Scan at most this many files (the most recently written): rotated logs pile up. */
export const MAX_FILES = 40;
const CONCURRENCY = 4; // bounds memory: each read holds up to TAIL_BYTES

/** Where to look: a glob relative to `base`. Optional sources (process-manager logs) may match nothing. */
export interface LogSource {
  base: string;
  pattern: string;
  /** Globs relative to `base` to leave out (the config's `!pattern` entries). */
  ignore?: string[];
  optional?: boolean;
}

/** What a scan of the log files found. */
export interface LogScan {
  /** Configured globs that matched no file. */
  unmatched: string[];
  /** Files scanned, relative to the root (absolute when outside it). */
  files: Array<{ path: string; size: number; truncated: boolean }>;
  /** Files matched but left out because of MAX_FILES. */
  skipped: number;
  groups: CrashGroup[];
}

/** The configured `logs` globs (`!pattern` leaves files out) plus PM2's logs under `.opsctl/` (or `$PM2_HOME`). */
export function logSources(root: string, patterns: string[], pm2Home?: string): LogSource[] {
  const ignore = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  return [
    ...patterns.filter((p) => !p.startsWith('!')).map((pattern) => ({ base: root, pattern, ignore })),
    { base: root, pattern: '.opsctl/*/logs/*.log', ignore, optional: true },
    ...(pm2Home ? [{ base: pm2Home, pattern: 'logs/*.log', optional: true }] : []),
  ];
}

export async function scanLogs(root: string, sources: LogSource[], signal?: AbortSignal): Promise<LogScan> {
  const unmatched: string[] = [];
  const matched: string[] = [];
  for (const source of sources) {
    const files = (await expandGlob(source.base, source.pattern, source.ignore)).filter(
      (f) => !/\.(gz|zip|bz2|xz)$/.test(f),
    );
    if (!files.length && !source.optional) unmatched.push(source.pattern);
    matched.push(...files);
  }
  const all = await oncePerFile(matched);
  const withTimes = await Promise.all([...all].map(async (file) => ({ file, mtime: (await stat(file)).mtimeMs })));
  const chosen = withTimes.sort((a, b) => b.mtime - a.mtime).slice(0, MAX_FILES);
  const results: Array<{
    file: string;
    events: ReturnType<typeof parseCrashes>;
    mtime: Date;
    size: number;
    truncated: boolean;
  }> = [];
  for (let i = 0; i < chosen.length; i += CONCURRENCY) {
    signal?.throwIfAborted();
    const batch = await Promise.all(
      chosen.slice(i, i + CONCURRENCY).map(async ({ file }) => {
        const tail = await readTail(file, TAIL_BYTES);
        return { file: shownPath(root, file), events: parseCrashes(tail.text, root), ...tail };
      }),
    );
    results.push(...batch);
  }
  return {
    unmatched,
    files: results.map((r) => ({ path: r.file, size: r.size, truncated: r.truncated })),
    skipped: all.size - chosen.length,
    groups: groupCrashes(results),
  };
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

/** `$PM2_HOME` when set (absolute, or relative to the root). */
export function pm2HomeFrom(root: string, env: Record<string, string | undefined>): string | undefined {
  return env.PM2_HOME ? resolve(root, env.PM2_HOME) : undefined;
}
