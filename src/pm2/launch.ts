import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { identityEnv, packageEnv } from '../app/env.js';
import { type HealthTarget, probeSmoke, staysHealthy, waitHealthy } from '../app/health.js';
import { clearedEnv } from '../app/live.js';
import { deployPaths } from '../app/paths.js';
import type { ResolvedConfig } from '../config/types.js';
import type { SourceLayout } from '../logs/stack.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from './cli.js';
import { forkImportFailureIn, importFailureIn } from './crash.js';
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
  /** Its PM2 name: the package's, or its candidate's (`<pkg>~candidate`). */
  name: string;
  /** The port it answers on: the package's, or the candidate's scratch port. */
  port?: number;
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
  /** A fork-mode side process (the candidate): its failed import shows differently in its log. */
  fork?: boolean;
  /** Only this instance is judged (a one-by-one reload: the others still run the previous release). */
  only?: number;
}

export interface LaunchOptions {
  /** The package's instances, when the caller already has a fresh list (each `pm2 jlist` costs ~300 ms). */
  running?: Pm2Instance[];
  /** After a reload, scale to the configured count (deploy does; restart keeps a count set by `opsctl scale`). */
  scale?: boolean;
  /** Values over the package's environment (a rollback puts back the environment a release ran with). */
  env?: Record<string, string>;
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
  const env = { ...liveEnv(config, pkg, release), ...options.env };
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
    return { pkg, name: pkg.name, port: pkg.port, release, action: 'reloaded', baseline, fresh: false, logs, offsets };
  }
  if (running.length) await pm2.action('delete', [pkg.name]);
  options.onCommand?.(`pm2 start ${pkg.name}`);
  await pm2.start(file, env);
  const kept = targetInstances(config.root, pkg); // a count set with `opsctl scale` (README, "`opsctl deploy`")
  if (options.scale && kept !== wantedInstances(pkg)) await pm2.scale(pkg.name, kept);
  return {
    pkg,
    name: pkg.name,
    port: pkg.port,
    release,
    action: 'started',
    baseline: new Map(),
    fresh: true,
    logs,
    offsets,
  };
}

/** The PM2 name of a package's candidate (package names never hold `~`, so it cannot clash with one). */
export function candidateName(pkg: string): string {
  return `${pkg}~candidate`;
}

/**
 * Start a release beside the live one as its candidate (README, "Deploy"): one fork-mode instance under its own
 * PM2 name, from the release folder itself (not `current`), with the package's environment but PORT set to a
 * scratch port, and no restarts, so a crash is seen as one. `current` and the live instances are not touched.
 */
export async function launchCandidate(
  pm2: Pm2,
  config: ResolvedConfig,
  pkg: AppPackage,
  release: { id: string; dir: string },
  port: number,
): Promise<Launch> {
  const name = candidateName(pkg.name);
  const logs = pm2LogFiles(pm2.home, name);
  const file = writeEcosystem(deployPaths(config.root).apps, pkg, release.dir, { name, logs: [logs[0]!, logs[1]!] });
  const env = { ...packageEnv(config, pkg), PORT: String(port), OPSCTL_RELEASE: release.id };
  const offsets = logOffsets(logs);
  await pm2.start(file, env);
  return {
    pkg,
    name,
    port,
    release: release.id,
    action: 'started',
    baseline: new Map(),
    fresh: true,
    logs,
    offsets,
    fork: true,
  };
}

/** Delete a package's candidate from PM2 (and its ecosystem file); none running is fine. */
export async function removeCandidate(pm2: Pm2, config: ResolvedConfig, pkg: AppPackage): Promise<void> {
  const name = candidateName(pkg.name);
  await pm2.action('delete', [name]).catch(() => {});
  rmSync(join(deployPaths(config.root).apps, `${name}.json`), { force: true });
}

/**
 * Wait until a launched release is healthy; undefined when it is, else what is wrong. A crash ends the wait at
 * once rather than at the timeout: code that failed to load, an errored or restarted instance, another release.
 */
export function waitLaunched(
  pm2: Pm2,
  launch: Launch,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  return waitHealthy(targetOf(launch), {
    timeoutMs,
    signal,
    quick: () => loadFailure(launch),
    fatal: launchFatal(pm2, launch),
    stableProbes: launch.port ? 2 : PORTLESS_STABLE_PROBES,
  });
}

/** After a launched release was healthy: it must stay so for `durationMs`, and answer its smoke paths. */
export async function provenStable(
  pm2: Pm2,
  launch: Launch,
  durationMs: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const target = targetOf(launch);
  const smoke = await probeSmoke(target, launch.pkg.smoke ?? []);
  if (smoke) return smoke;
  return staysHealthy(target, {
    durationMs,
    signal,
    quick: () => loadFailure(launch),
    fatal: launchFatal(pm2, launch),
  });
}

function targetOf(launch: Launch): HealthTarget {
  return { port: launch.port, health: launch.pkg.health };
}

function launchFatal(pm2: Pm2, launch: Launch): () => Promise<string | undefined> {
  return async () => loadFailure(launch) ?? problemOf(await instancesOf(pm2, launch.name), launch);
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
  const lines = readLogTail(launch.logs, CRASH_SCAN_LINES, launch.offsets);
  const error = launch.fork ? forkImportFailureIn(lines) : importFailureIn(lines);
  return error && `the release failed to load its code (${error})`;
}

/** A fatal problem with a package's instances: errored or stopped, restarted since the launch, or on another release. */
function problemOf(all: Pm2Instance[], launch: Launch): string | undefined {
  const instances = launch.only === undefined ? all : all.filter((p) => p.pmId === launch.only);
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

export interface OneByOneOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  onCommand?(command: string): void;
}

/**
 * Reload a running package into the release `current` now points at, one instance at a time, each health-gated
 * before the next (README, "Deploy"): `pm2 reload <id>` starts the new worker beside the old one and stops the old
 * one once the new one listens. Returns the launch of the whole package and the first problem, if any. When the
 * ecosystem changed (start script, instance count), PM2 must read the file: one `pm2 reload <file>`, gated after.
 */
export async function reloadOneByOne(
  pm2: Pm2,
  config: ResolvedConfig,
  pkg: AppPackage,
  release: string,
  running: Pm2Instance[],
  options: OneByOneOptions,
): Promise<{ launch: Launch; problem?: string }> {
  const paths = deployPaths(config.root);
  const file = join(paths.apps, `${pkg.name}.json`);
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  writeEcosystem(paths.apps, pkg, paths.current(pkg.name));
  const online = running.filter((p) => p.state === 'online');
  if (!online.length || readFileSync(file, 'utf8') !== before) {
    const launch = await launchRelease(pm2, config, pkg, release, { running, scale: true, ...options });
    return { launch };
  }
  const env = liveEnv(config, pkg, release);
  const logs = pm2LogFiles(pm2.home, pkg.name);
  secureLogs(pm2.home, [pkg.name]);
  const offsets = logOffsets(logs);
  const base = { pkg, name: pkg.name, port: pkg.port, release, action: 'reloaded' as const, fresh: false, logs };
  for (const instance of online) {
    if (options.signal?.aborted) return { launch: { ...base, baseline: new Map(), offsets }, problem: 'interrupted' };
    options.onCommand?.(`pm2 reload ${pkg.name} instance ${instance.pmId} of ${online.length}`);
    await pm2.action('reload', [String(instance.pmId)], env);
    const restarts = (await instancesOf(pm2, pkg.name)).find((p) => p.pmId === instance.pmId)?.restarts;
    const one: Launch = { ...base, baseline: new Map([[instance.pmId, restarts ?? 0]]), offsets, only: instance.pmId };
    const problem = await waitLaunched(pm2, one, options.timeoutMs, options.signal);
    if (problem) return { launch: one, problem: `instance ${instance.pmId}: ${problem}` };
  }
  const wanted = targetInstances(config.root, pkg); // a count set with `opsctl scale` is kept
  if (online.length !== wanted) await pm2.scale(pkg.name, wanted);
  const baseline = new Map((await instancesOf(pm2, pkg.name)).map((p) => [p.pmId, p.restarts]));
  return { launch: { ...base, baseline, offsets } };
}

/**
 * The environment the live instances get: the package's, the release, and each key the running release had but
 * this one lacks, cleared (PM2's reload merges environments and never drops a key; README, "`opsctl deploy`").
 */
function liveEnv(config: ResolvedConfig, pkg: AppPackage, release: string): Record<string, string> {
  const cleared = clearedEnv(config.root, pkg.name, identityEnv(config, pkg));
  return { ...cleared, ...packageEnv(config, pkg), OPSCTL_RELEASE: release };
}
