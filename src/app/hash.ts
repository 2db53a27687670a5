import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Never part of a package's inputs or release: dependencies, VCS, opsctl's own state, logs. */
export const ALWAYS_EXCLUDED = ['node_modules', '.git', '.opsctl', 'logs', 'coverage'];

/**
 * A content hash of a folder: sorted relative paths and file contents. `exclude` names top-level entries to
 * leave out (build outputs, node_modules); `*.log` files are always left out.
 */
export function hashTree(dir: string, exclude: string[]): string {
  const hash = createHash('sha256');
  const skip = new Set([...ALWAYS_EXCLUDED, ...exclude]);
  const walk = (rel: string) => {
    const entries = readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (!rel && skip.has(e.name)) continue;
      if (e.name.endsWith('.log')) continue;
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path);
      else if (e.isFile()) {
        hash.update(`${path}\0`);
        hash.update(readFileSync(join(dir, path)));
        hash.update('\0');
      } else if (e.isSymbolicLink()) hash.update(`${path}\0link\0`);
    }
  };
  walk('');
  return hash.digest('hex');
}

/** Hash of package.json and the lockfile: what `npm ci` installs from. */
export function hashManifest(dir: string): string {
  const hash = createHash('sha256');
  for (const name of ['package.json', 'package-lock.json', 'npm-shrinkwrap.json']) {
    const file = join(dir, name);
    hash.update(`${name}\0`);
    if (existsSync(file)) hash.update(readFileSync(file));
  }
  return hash.digest('hex');
}
