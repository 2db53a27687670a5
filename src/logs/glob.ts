import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const SKIPPED_DIRS = new Set(['node_modules', '.git']);

/**
 * Files matching a glob relative to `root`: `*` and `?` within one path segment, `**` across any
 * number of segments (node_modules and .git are not descended into). Returns absolute paths, sorted.
 */
export async function expandGlob(root: string, pattern: string): Promise<string[]> {
  const segments = pattern
    .replace(/\\/g, '/')
    .split('/')
    .filter((s) => s && s !== '.');
  const found = new Set<string>();
  await walk(root, segments, found);
  return [...found].sort();
}

async function walk(dir: string, segments: string[], found: Set<string>): Promise<void> {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (head === '**') {
    await walk(dir, rest, found);
    for (const entry of await entries(dir)) {
      if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name)) await walk(join(dir, entry.name), segments, found);
    }
    return;
  }
  const matcher = segmentRegExp(head);
  for (const entry of await entries(dir)) {
    if (!matcher.test(entry.name)) continue;
    const path = join(dir, entry.name);
    if (!rest.length && entry.isFile()) found.add(path);
    else if (rest.length && entry.isDirectory()) await walk(path, rest, found);
  }
}

async function entries(dir: string) {
  return readdir(dir, { withFileTypes: true }).catch(() => []);
}

/** One glob segment as a regular expression; dotfiles match only when the segment starts with a dot. */
export function segmentRegExp(segment: string): RegExp {
  const body = segment
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(segment.startsWith('.') ? `^${body}$` : `^(?!\\.)${body}$`);
}
