import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

/** One entry of package-lock.json's `packages` (lockfileVersion 2 and 3). */
export interface LockEntry {
  version?: string;
  link?: boolean;
  dev?: boolean;
  optional?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

/** An npm lockfile, reduced to what install checks need. */
export interface NpmLockfile {
  /** Absolute path. */
  file: string;
  lockfileVersion: number;
  /** Keyed by install path (`node_modules/a/node_modules/b`); `""` is the root package. */
  packages: Record<string, LockEntry>;
}

export const NPM_LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json'];
/** Lockfiles of other package managers: npm ignores them, so opsctl notes them instead of checking. */
export const OTHER_LOCKFILES = ['yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'];

/** The npm lockfile in `dir` (shrinkwrap wins, as with npm), or undefined. Throws on invalid JSON. */
export async function readNpmLockfile(dir: string): Promise<NpmLockfile | undefined> {
  const name = NPM_LOCKFILES.find((f) => existsSync(join(dir, f)));
  if (!name) return undefined;
  const file = join(dir, name);
  const raw = JSON.parse(await readFile(file, 'utf8')) as {
    lockfileVersion?: number;
    packages?: Record<string, LockEntry>;
    dependencies?: Record<string, V1Entry>;
  };
  const packages = raw.packages ?? fromV1(raw.dependencies ?? {});
  return { file, lockfileVersion: raw.lockfileVersion ?? 1, packages };
}

/**
 * The lockfile that governs a package: its own, else (npm workspaces) one in a folder above it, up to
 * the app root, that lists the package's folder. `path` is the package's key in `packages`.
 */
export async function findNpmLockfile(
  dir: string,
  root: string,
): Promise<{ lock: NpmLockfile; path: string } | undefined> {
  for (let current = dir; ; current = dirname(current)) {
    const lock = await readNpmLockfile(current);
    const path = relative(current, dir).split('\\').join('/');
    if (lock && (path === '' || lock.packages[path])) return { lock, path };
    if (current === root || dirname(current) === current || relative(root, current).startsWith('..')) return undefined;
  }
}

/** The other package manager's lockfile in `dir`, if any. */
export function otherLockfile(dir: string): string | undefined {
  return OTHER_LOCKFILES.find((f) => existsSync(join(dir, f)));
}

/** Every dependency range an entry declares (prod, dev, optional), as package.json spells them. */
export function declaredRanges(entry: LockEntry | undefined): Record<string, string> {
  return { ...entry?.dependencies, ...entry?.devDependencies, ...entry?.optionalDependencies };
}

interface V1Entry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  dependencies?: Record<string, V1Entry>;
}

/** lockfileVersion 1 nests `dependencies`; flatten them to v2-style install paths. */
function fromV1(deps: Record<string, V1Entry>, prefix = ''): Record<string, LockEntry> {
  const out: Record<string, LockEntry> = {};
  for (const [name, entry] of Object.entries(deps)) {
    const path = `${prefix}node_modules/${name}`;
    out[path] = { version: entry.version, dev: entry.dev, optional: entry.optional };
    Object.assign(out, fromV1(entry.dependencies ?? {}, `${path}/`));
  }
  return out;
}
