import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { AppPackage } from '../packages/types.js';
import { isProcessRunning } from '../process/process-group.js';
import { hashManifest, hashTree } from './hash.js';
import { copyRelease } from './link-tree.js';
import { readLive } from './live.js';
import { deployPaths } from './paths.js';

const KEEP_RELEASES = 3; // the current one, the one before (rollback target), and one spare

/** A release is a copy of a package folder (sources, build outputs, node_modules) named by its content. */
export function releaseId(pkg: AppPackage): string {
  const hash = createHash('sha256').update(hashTree(pkg.dir, [])).update(hashManifest(pkg.dir));
  return hash.digest('hex').slice(0, 12);
}

/** The release `current` points at, if any. */
export function currentRelease(root: string, pkg: string): string | undefined {
  const link = deployPaths(root).current(pkg);
  try {
    return basename(readlinkSync(link));
  } catch {
    return undefined;
  }
}

/** Make the release folder for `id` (unless it exists: same content) and return its path. */
export async function prepareRelease(root: string, pkg: AppPackage, id: string): Promise<string> {
  const dir = join(deployPaths(root).releases(pkg.name), id);
  if (existsSync(dir)) return dir;
  removeDeadTemps(deployPaths(root).releases(pkg.name));
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await copyRelease(pkg.dir, tmp, new Set(['.git', '.opsctl', 'logs']));
  // the app's log folder stays shared, so logs (and doctor's logs check) do not move with each release
  if (existsSync(join(pkg.dir, 'logs'))) symlinkSync(join(pkg.dir, 'logs'), join(tmp, 'logs'));
  renameSync(tmp, dir);
  return dir;
}

/** Half-copied releases (`<id>.tmp-<pid>`) left by an opsctl that died mid-copy; a live one's are its own. */
function removeDeadTemps(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    const pid = Number(/\.tmp-(\d+)$/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !isProcessRunning(pid)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** Point `current` at a release (atomically: a new symlink renamed over the old one). */
export function activateRelease(root: string, pkg: string, id: string): void {
  const paths = deployPaths(root);
  const tmp = `${paths.current(pkg)}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  symlinkSync(join(paths.releases(pkg), id), tmp);
  renameSync(tmp, paths.current(pkg));
  const now = new Date();
  utimesSync(join(paths.releases(pkg), id), now, now); // pruning keeps the most recently active
}

/**
 * Delete all but the newest releases that went live (README, "Deploy": a failed release takes no slot and is
 * deleted), never the current one or `keep`. Without a recorded history (older opsctl), every release counts.
 */
export function pruneReleases(root: string, pkg: string, keep: string[]): void {
  const dir = deployPaths(root).releases(pkg);
  if (!existsSync(dir)) return;
  const protectedIds = new Set([...keep, currentRelease(root, pkg)].filter(Boolean));
  const history = readLive(root, pkg)?.history;
  const wentLive = history?.length ? new Set(history) : undefined;
  const releases = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^[0-9a-f]{12}$/.test(e.name))
    .filter((e) => {
      if (!wentLive || wentLive.has(e.name)) return true;
      if (!protectedIds.has(e.name)) rmSync(join(dir, e.name), { recursive: true, force: true });
      return false;
    })
    .map((e) => ({ id: e.name, at: statTime(join(dir, e.name)) }))
    .sort((a, b) => b.at - a.at);
  for (const r of releases.slice(KEEP_RELEASES)) {
    if (!protectedIds.has(r.id)) rmSync(join(dir, r.id), { recursive: true, force: true });
  }
}

/**
 * A release that failed before going live (its candidate or health gate failed, or the deploy was interrupted) is
 * deleted at once: it takes none of the kept slots (README, "`opsctl deploy`"). `current`, and a release that went
 * live before (deployed again), stay.
 */
export function removeFailedRelease(root: string, pkg: string, id: string): void {
  if (currentRelease(root, pkg) === id || readLive(root, pkg)?.history?.includes(id)) return;
  rmSync(join(deployPaths(root).releases(pkg), id), { recursive: true, force: true });
}

function statTime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}
