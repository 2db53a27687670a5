import { identityEnv, packageEnv } from '../app/env.js';
import { waitHealthy } from '../app/health.js';
import { clearedEnv } from '../app/live.js';
import { deployPaths } from '../app/paths.js';
import type { ResolvedConfig } from '../config/types.js';
import type { SourceLayout } from '../logs/stack.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from './cli.js';
import { importFailureIn } from './crash.js';
import { writeEcosystem } from './ecosystem.js';
import { targetInstances, wantedInstances } from './instances.js';
import { logOffsets, pm2LogFiles, readLogTail, secureLogs } from './logs.js';
import type { Pm2Instance } from './processes.js';

export { wantedInstances }; // moved to instances.ts; kept here for its callers

const LOG_TAIL_LINES = 20; // shown when a launched release is not healthy
const CRASH_SCAN_LINES = 400; // the release's new log lines searched for a failed import
/** Without a port, "healthy" means the instances stay online for about 1.5 s of 100 ms probes. */
const PORTLESS_STABLE_PROBES = 15;

/** What starting or reloading one package did: what its health gate needs to tell a crash from the reload itself. */
export interface Launch {
  pkg: AppPackage;
  /** The release the instances were given (OPSCTL_RELEASE). */
  release: string;
  action: 'started' | 'reloaded';
  /** Each instance's restart count right after a reload. */
  baseline: Map<number, number>;
  /** The instances were started afresh: their restart counts began at 0. */
  fresh: boolean;
  /** PM2's log files of the package, and their sizes before the launch: only the release's own lines are read. */
  logs: string[];
  offsets: number[];
}

export interface LaunchOptions {
  /** The package's instances, when the caller already has a fresh list (each `pm2 jlist` costs ~300 ms). */
  running?: Pm2Instance[];
  /** After a reload, scale to the configured count (deploy does; restart keeps a count set by `opsctl scale`). */
  scale?: boolean;
  /** Told which PM2 command is about to run, for progress. */
  onCommand?(command: string): void;
}

/**
 * The one start/reload path of `deploy`, `start` and `restart`: run the release `current` points at, reloading
 * the package when an instance is online (zero downtime in cluster mode), else starting it afresh.
 */
export async function launchRelease(
  pm2: Pm2,
  config: ResolvedConfig,
  pkg: AppPackage,
  release: string,
  options: LaunchOptions = {},
): Promise<Launch> {
  const paths = deployPaths(config.root);
  const file = writeEcosystem(paths.apps, pkg, paths.current(pkg.name));
  const cleared = clearedEnv(config.root, pkg.name, identityEnv(config, pkg));
  const env = { ...cleared, ...packageEnv(config, pkg), OPSCTL_RELEASE: release };
  const running = options.running ?? (await instancesOf(pm2, pkg.name));
  const logs = pm2LogFiles(pm2.home, pkg.name);
  secureLogs(pm2.home, [pkg.name]);
  const offsets = logOffsets(logs);
  if (running.some((p) => p.state === 'online')) {
    options.onCommand?.(`pm2 reload ${pkg.name}`);
    await pm2.reload(file, env);
    const wanted = targetInstances(config.root, pkg);
    if (options.scale && running.length !== wanted) await pm2.scale(pkg.name, wanted);
    const baseline = new Map((await instancesOf(pm2, pkg.name)).map((p) => [p.pmId, p.restarts]));
    return { pkg, release, action: 'reloaded', baseline, fresh: false, logs, offsets };
  }
  if (running.length) await pm2.action('delete', [pkg.name]);
  options.onCommand?.(`pm2 start ${pkg.name}`);
  await pm2.start(file, env);
  const kept = targetInstances(config.root, pkg); // a count set with `opsctl scale` (README, "Deploy")
  if (options.scale && kept !== wantedInstances(pkg)) await pm2.scale(pkg.name, kept);
  return { pkg, release, action: 'started', baseline: new Map(), fresh: true, logs, offsets };
}

/**
 * Wait until a launched release is healthy; undefined when it is, else what is wrong. A crash ends the wait at
 * once rather than at the timeout: code that failed to load, an errored or restarted instance, another release.
 */
export function waitLaunched(pm2: Pm2, launch: Launch, timeoutMs: number): Promise<string | undefined> {
  return waitHealthy(launch.pkg, {
    timeoutMs,
    fatal: async () => loadFailure(launch) ?? problemOf(await instancesOf(pm2, launch.pkg.name), launch),
    stableProbes: launch.pkg.port ? 2 : PORTLESS_STABLE_PROBES,
  });
}

/** A package left running as it was: one good probe is enough, as nothing changed that could crash it. */
export function waitRunning(pkg: AppPackage, timeoutMs: number): Promise<string | undefined> {
  return waitHealthy(pkg, { timeoutMs, stableProbes: 1 });
}

/** The last log lines (redacted) the launched release wrote, naming source files rather than release copies. */
export function launchLogTail(launch: Launch, layout: SourceLayout): string[] {
  return readLogTail(launch.logs, LOG_TAIL_LINES, launch.offsets, layout);
}

/** The last log lines (redacted) of a package, whichever release wrote them, naming source files. */
export function packageLogTail(pm2: Pm2, pkg: AppPackage, layout: SourceLayout): string[] {
  return readLogTail(pm2LogFiles(pm2.home, pkg.name), LOG_TAIL_LINES, undefined, layout);
}

export async function instancesOf(pm2: Pm2, name: string): Promise<Pm2Instance[]> {
  return (await pm2.jlist()).filter((p) => p.name === name);
}

/** Read first: a failed import leaves the instance "online" (no restarts), and reading the log costs no jlist. */
function loadFailure(launch: Launch): string | undefined {
  const error = importFailureIn(readLogTail(launch.logs, CRASH_SCAN_LINES, launch.offsets));
  return error && `the release failed to load its code (${error})`;
}

/** A fatal problem with a package's instances: errored or stopped, restarted since the launch, or on another release. */
function problemOf(instances: Pm2Instance[], launch: Launch): string | undefined {
  if (!instances.length) return 'no instance is running under PM2';
  for (const p of instances) {
    if (p.state === 'errored' || p.state === 'stopped')
      return `instance ${p.pmId} is ${p.state} (${p.restarts} restarts)`;
    const before = launch.baseline.get(p.pmId) ?? (launch.fresh ? 0 : undefined);
    if (before !== undefined && p.restarts > before) return `instance ${p.pmId} crashed and was restarted`;
    if (p.release && p.release !== launch.release)
      return `instance ${p.pmId} runs release ${p.release}, not ${launch.release}`;
  }
  return undefined;
}
