import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { workspaceRootOf } from '../packages/installed.js';
import type { AppPackage } from '../packages/types.js';

/** The file a package runs: the `node <file>` of its start script, else `main` (without a leading `./`). */
export function entryOf(pkg: Pick<AppPackage, 'scripts' | 'main'>): string | undefined {
  const fromStart = /\bnode\s+(?:--[\w-]+(?:=\S+)?\s+)*([\w./-]+\.[cm]?[jt]s)\b/.exec(pkg.scripts.start ?? '')?.[1];
  return (fromStart ?? pkg.main)?.replace(/^\.\//, '');
}

/** `npm ci` works in the package: it has a lockfile. */
export function hasLockfile(dir: string): boolean {
  return existsSync(join(dir, 'package-lock.json')) || existsSync(join(dir, 'npm-shrinkwrap.json'));
}

/**
 * Where CI installs the packages: each package in its folder, but npm workspace members once, at the workspace
 * root (their lockfile is there, and `npm install --prefix <member>` would look a sibling member up on the registry).
 */
export function installTargets(
  root: string,
  packages: Array<{ path: string }>,
): Array<{ path: string; hasLockfile: boolean }> {
  const targets = new Map<string, boolean>();
  for (const p of packages) {
    const dir = resolve(root, p.path);
    const top = workspaceRootOf(dir);
    const path = top === resolve(root) ? '.' : p.path;
    targets.set(path, hasLockfile(path === '.' ? resolve(root) : dir));
  }
  return [...targets].map(([path, lock]) => ({ path, hasLockfile: lock }));
}

/** A word for a POSIX shell (CI steps, npm scripts): as it is when plain, else single-quoted. */
export function shellWord(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}
