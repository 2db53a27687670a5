import { existsSync } from 'node:fs';
import { join } from 'node:path';
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
