import { liveLockHolder } from '../app/app-lock.js';
import { probeHealth } from '../app/health.js';
import { type ReleaseProvenance, type RolledBack, readLive } from '../app/live.js';
import type { ResolvedConfig } from '../config/types.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from './cli.js';
import { startCommand } from './ecosystem.js';
import { isDaemonRunning, verifyHomeUsable } from './home.js';
import { targetInstances } from './instances.js';
import { wantedInstances } from './launch.js';
import { candidatesOf, orphanNames, orphansOf } from './orphans.js';
import type { Pm2Instance } from './processes.js';
import { WATCHER_NAME, watcherOf } from './watcher.js';

/** `status` per package (README, "JSON shapes"), plus the state summarised for people. */
export interface PackageStatus {
  name: string;
  port?: number;
  /** `ok`, what is wrong, or undefined when not running / no port. */
  health?: string;
  release?: string;
  /** The config's `instances` (resolved: `max` is one per CPU), for packages with a start script. */
  configInstances?: number;
  /** Runs under the app's PM2 but is no longer in the config (`opsctl stop --orphans` stops it). */
  orphan?: boolean;
  /** A deploy's candidate (`<pkg>~candidate`, README "`opsctl status`"), not a stray. */
  candidate?: boolean;
  /** The pid of the deploy the candidate belongs to, while that deploy runs (none: it was left by a killed one). */
  deployPid?: number;
  /** `opsctl watch --daemon`'s process (README, "`opsctl watch`"), not a package. */
  watcher?: boolean;
  /** A count set with `opsctl scale` that deploys keep until the config's `instances` changes. */
  scaled?: boolean;
  /** What the running release was made from, as its deploy recorded it (README, "Provenance"). */
  provenance?: ReleaseProvenance;
  /** The running release was put back by a deploy whose release (`from`) failed once live. */
  rolledBack?: RolledBack;
  /** `id` is PM2's id of the instance (`pm_id`): the number doctor, logs and `pm2 ls` show (`backend#3`). */
  instances: Array<
    { id: number } & Pick<Pm2Instance, 'pid' | 'state' | 'uptimeMs' | 'restarts' | 'memoryBytes' | 'cpu'>
  >;
}

/**
 * Read PM2's view of the packages without starting a daemon: no daemon means nothing is running, unless the
 * home is unusable (a file, not writable): then no daemon could run there at all, which is an error.
 */
export async function readStatus(
  pm2: Pm2,
  config: ResolvedConfig,
): Promise<{ daemon: boolean; packages: PackageStatus[] }> {
  const { packages, root } = config;
  const daemon = isDaemonRunning(pm2.home);
  if (!daemon) verifyHomeUsable(pm2.home, root);
  const all = daemon ? await pm2.jlist() : [];
  const rows = await Promise.all(
    packages.map(async (pkg): Promise<PackageStatus> => {
      const instances = all.filter((p) => p.name === pkg.name);
      const online = instances.some((p) => p.state === 'online');
      const problem = online && pkg.port !== undefined ? await probeHealth(pkg) : undefined;
      return {
        name: pkg.name,
        ...(pkg.port !== undefined ? { port: pkg.port } : {}),
        ...(online && pkg.port !== undefined ? { health: problem ?? 'ok' } : {}),
        ...(instances[0]?.release ? { release: instances[0].release } : {}),
        ...(startCommand(pkg) ? { configInstances: wantedInstances(pkg) } : {}),
        ...(scaledByHand(root, pkg) ? { scaled: true } : {}),
        ...releaseRecord(root, pkg.name, instances[0]?.release),
        instances: instances.map(instanceRow),
      };
    }),
  );
  const orphans = orphansOf(all, config);
  const orphanRows = orphanNames(orphans).map(
    (name): PackageStatus => ({
      name,
      orphan: true,
      ...(orphans.find((p) => p.name === name)?.release
        ? { release: orphans.find((p) => p.name === name)!.release }
        : {}),
      instances: orphans.filter((p) => p.name === name).map(instanceRow),
    }),
  );
  const candidates = candidatesOf(all, config);
  const holder = candidates.length && liveLockHolder(root);
  const deploying = holder && holder.command === 'deploy' ? holder.pid : undefined;
  const candidateRows = orphanNames(candidates).map(
    (name): PackageStatus => ({
      name,
      candidate: true,
      ...(deploying ? { deployPid: deploying } : {}),
      ...(candidates.find((p) => p.name === name)?.release
        ? { release: candidates.find((p) => p.name === name)!.release }
        : {}),
      instances: candidates.filter((p) => p.name === name).map(instanceRow),
    }),
  );
  const watcher = watcherOf(all);
  const watcherRows: PackageStatus[] = watcher
    ? [{ name: WATCHER_NAME, watcher: true, instances: [instanceRow(watcher)] }]
    : [];
  return { daemon, packages: [...rows, ...candidateRows, ...orphanRows, ...watcherRows] };
}

/** The provenance of the running release, and whether it is a rollback, from the package's live record. */
function releaseRecord(root: string, pkg: string, release: string | undefined): Partial<PackageStatus> {
  const live = release ? readLive(root, pkg) : undefined;
  if (!live || live.release !== release) return {};
  const provenance = live.provenance?.[release];
  return { ...(provenance ? { provenance } : {}), ...(live.rolledBack ? { rolledBack: live.rolledBack } : {}) };
}

function scaledByHand(root: string, pkg: AppPackage): boolean {
  return startCommand(pkg) !== undefined && targetInstances(root, pkg) !== wantedInstances(pkg);
}

function instanceRow({
  pmId,
  pid,
  state,
  uptimeMs,
  restarts,
  memoryBytes,
  cpu,
}: Pm2Instance): PackageStatus['instances'][0] {
  return { id: pmId, pid, state, uptimeMs, restarts, memoryBytes, cpu };
}
