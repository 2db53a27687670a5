import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The package's lockfile, if it has one: `npm ci` installs from it. */
export function lockfileOf(dir: string): string | undefined {
  return ['package-lock.json', 'npm-shrinkwrap.json'].map((n) => join(dir, n)).find((f) => existsSync(f));
}

/** Do the build outputs exist (at least one of them, non-empty)? */
export function hasOutputs(dir: string, outputs: string[]): boolean {
  return outputs.some((o) => {
    const path = join(dir, o);
    return existsSync(path) && (!statSync(path).isDirectory() || readdirSync(path).length > 0);
  });
}
