import { isAbsolute } from 'node:path';

/** Never searched by `**`: dependency and VCS trees hold no app logs and are large. */
const SKIPPED = ['**/node_modules/**', '**/.git/**'];

/**
 * Files matching a glob relative to `root` (an absolute glob is taken as it is): `*`, `?`, `**`, `{a,b}` and
 * `[...]`; dotfiles only when the pattern names the dot; symlinked files are followed. `ignore` holds globs to
 * leave out (the config's `!` patterns). Returns absolute paths, sorted.
 */
export async function expandGlob(root: string, pattern: string, ignore: string[] = []): Promise<string[]> {
  // loaded on first use: only doctor's logs check globs
  const { glob } = await import('tinyglobby');
  const files = await glob(pattern.replace(/\\/g, '/'), {
    cwd: root,
    absolute: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    expandDirectories: false,
    ignore: isAbsolute(pattern) ? ignore : [...SKIPPED, ...ignore],
  });
  return files.sort();
}
