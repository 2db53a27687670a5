import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { dependencyDirs, readInstalled, readInstalledVersion } from './installed.js';
import { declaredRanges, findNpmLockfile, type LockEntry, otherLockfile } from './lockfile.js';
import type { AppPackage } from './types.js';

/** A package whose installed version is not the locked one. */
export interface VersionDrift {
  name: string;
  installed: string;
  locked: string;
}

/** How a package's node_modules compares with its package.json and lockfile. Read from files only. */
export interface InstallState {
  /** Relative to the package (`package-lock.json`, `../package-lock.json` for a workspace). */
  lockfile?: string;
  /** yarn.lock / pnpm-lock.yaml found instead of an npm lockfile. */
  otherLockfile?: string;
  nodeModules: boolean;
  /** package.json dependencies with no folder in node_modules. */
  notInstalled: string[];
  /** Lockfile entries (transitive included) with no folder in node_modules. */
  lockedMissing: Array<{ name: string; version: string }>;
  drift: VersionDrift[];
  /** package.json ranges the lockfile's root entry does not record (npm ci refuses these). */
  outOfSync: Array<{ name: string; range?: string; locked?: string }>;
  /** Dev dependencies absent as a whole: a production install (`npm ci --omit=dev`). */
  devOmitted: boolean;
  /** Installed packages compared. */
  checked: number;
}

const READ_CONCURRENCY = 64; // package.json reads per batch: fast, without exhausting file descriptors

/** Compare a package's install with its lockfile; throws only when the lockfile is unreadable JSON. */
export async function readInstallState(pkg: AppPackage, root: string): Promise<InstallState> {
  const found = await findNpmLockfile(pkg.dir, root);
  const lockDir = found ? dirname(found.lock.file) : pkg.dir;
  const direct = { ...pkg.dependencies, ...pkg.devDependencies };
  const state: InstallState = {
    lockfile: found ? relative(pkg.dir, found.lock.file) : undefined,
    otherLockfile: found ? undefined : otherLockfile(pkg.dir),
    nodeModules: existsSync(join(pkg.dir, 'node_modules')) || existsSync(join(lockDir, 'node_modules')),
    notInstalled: [],
    lockedMissing: [],
    drift: [],
    outOfSync: [],
    devOmitted: false,
    checked: 0,
  };
  if (!found) {
    const dirs = dependencyDirs(pkg.dir);
    const installed = await Promise.all(Object.keys(direct).map((n) => readInstalled(dirs, n)));
    state.notInstalled = Object.keys(direct).filter((_, i) => installed[i] === undefined);
    return state;
  }
  const { lock, path } = found;
  const rootEntry = lock.packages[path];
  if (rootEntry) {
    const locked = declaredRanges(rootEntry);
    for (const [name, range] of Object.entries(direct)) {
      if (locked[name] !== range) state.outOfSync.push({ name, range, locked: locked[name] });
    }
    for (const name of Object.keys(locked)) if (!(name in direct)) state.outOfSync.push({ name, locked: locked[name] });
  }
  // a workspace member owns its nested installs; its other dependencies are hoisted to the lockfile's folder
  const prefix = path ? `${path}/node_modules/` : 'node_modules/';
  const installPath = (name: string) =>
    path && !lock.packages[`${prefix}${name}`] ? `node_modules/${name}` : `${prefix}${name}`;
  const locked = Object.keys(lock.packages).filter((k) => k.startsWith(prefix));
  const keys = [...new Set([...locked, ...Object.keys(direct).map(installPath)])];
  const installed = await readVersions(lockDir, keys);
  const entryOf = (key: string): LockEntry => lock.packages[key] ?? {};
  const missing = keys.filter((key, i) => installed[i] === undefined && !entryOf(key).link && !entryOf(key).optional);
  state.devOmitted = missing.length > 0 && missing.every((key) => isDev(entryOf(key)));
  for (const [i, key] of keys.entries()) {
    const entry = entryOf(key);
    const version = installed[i];
    const name = key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (version === undefined) {
      if (missing.includes(key) && !state.devOmitted && lock.packages[key])
        state.lockedMissing.push({ name, version: entry.version ?? '?' });
      continue;
    }
    state.checked++;
    if (isSemver(entry.version) && isSemver(version) && entry.version !== version) {
      state.drift.push({ name, installed: version, locked: entry.version! });
    }
  }
  const wanted = Object.keys(direct).filter((n) => !(state.devOmitted && !(n in pkg.dependencies)));
  state.notInstalled = wanted.filter(
    (name) => installed[keys.indexOf(installPath(name))] === undefined && !entryOf(installPath(name)).link,
  );
  return state;
}

/** Is node_modules exactly what the lockfile describes? (What deploy uses to skip `npm ci`.) */
export function isInstallCurrent(state: InstallState): boolean {
  return (
    Boolean(state.lockfile) &&
    state.nodeModules &&
    !state.notInstalled.length &&
    !state.lockedMissing.length &&
    !state.drift.length &&
    !state.outOfSync.length
  );
}

async function readVersions(dir: string, paths: string[]): Promise<Array<string | undefined>> {
  const out: Array<string | undefined> = [];
  for (let i = 0; i < paths.length; i += READ_CONCURRENCY) {
    out.push(...(await Promise.all(paths.slice(i, i + READ_CONCURRENCY).map((p) => readInstalledVersion(dir, p)))));
  }
  return out;
}

function isDev(entry: LockEntry): boolean {
  return Boolean(entry.dev || entry.devOptional);
}

function isSemver(version: string | undefined): boolean {
  return version !== undefined && /^\d+\.\d+\.\d+/.test(version);
}
