import { isAbsolute } from 'node:path';

/** Never searched by `**`: dependency and VCS trees hold no app logs and are large. */
const SKIPPED = ['**/node_modules/**', '**/.git/**'];
/** Nor the kernel's virtual trees, for an absolute glob that walks from `/` (a typo for a glob under /var/log). */
const SKIPPED_ABSOLUTE = ['/proc/**', '/sys/**', '/dev/**', '/run/**', ...SKIPPED];

/**
 * Files matching a glob relative to `root` (an absolute glob is taken as it is): `*`, `?`, `**`, `{a,b}` and
 * `[...]`; dotfiles only when the pattern names the dot; symlinked files are followed. `ignore` holds globs to
 * leave out (the config's `!` patterns); `signal` stops the walk. Returns absolute paths, sorted.
 */
export async function expandGlob(
  root: string,
  pattern: string,
  ignore: string[] = [],
  signal?: AbortSignal,
): Promise<string[]> {
  // loaded on first use: only doctor's logs check globs
  const { glob } = await import('tinyglobby');
  const files = await glob(pattern.replace(/\\/g, '/'), {
    cwd: root,
    absolute: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    expandDirectories: false,
    ignore: [...(isAbsolute(pattern) ? SKIPPED_ABSOLUTE : SKIPPED), ...ignore],
    // a glob over a huge tree stops with the check's time limit (README, "`opsctl doctor`": --timeout)
    signal,
  });
  signal?.throwIfAborted();
  return files.sort();
}
