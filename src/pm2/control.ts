import { existsSync } from 'node:fs';
import { identityEnv } from '../app/env.js';
import { markLive, updateLive } from '../app/live.js';
import { deployPaths } from '../app/paths.js';
import { currentRelease } from '../app/releases.js';
import type { ResolvedConfig } from '../config/types.js';
import { ExitCode, OpsError, usageError } from '../errors.js';
import { sourcePathsIn } from '../logs/stack.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from './cli.js';
import { startCommand } from './ecosystem.js';
import { logTailHint } from './failure.js';
import { isDaemonRunning } from './home.js';
import {
  candidateName,
  instancesOf,
  launchLogTail,
  launchRelease,
  packageLogTail,
  waitLaunched,
  waitRunning,
  wantedInstances,
} from './launch.js';
import { leavesRunning } from './start-plan.js';

/** What a process command did to one package. */
export interface ControlResult {
  name: string;
  action: string;
  instances: number;
}

/** Packages a process command acts on; naming one without a start script is a usage error. */
export function verifyStartable(packages: AppPackage[], named: boolean): AppPackage[] {
  const libs = packages.filter((p) => !startCommand(p));
  if (named && libs.length) {
    throw usageError(
      `${libs.map((p) => p.name).join(', ')} ${libs.length > 1 ? 'have' : 'has'} no start script, so there is no process to manage.`,
      'Add a "start" script to its package.json, or leave it out.',
    );
  }
  return packages.filter((p) => startCommand(p));
}

/**
 * Start (or reload, when online) the current release of each package and wait until it is healthy, through the
 * same start/reload path and crash detection as deploy: a release that crashes fails at once, with its log lines.
 */
export async function startPackages(
  pm2: Pm2,
  config: ResolvedConfig,
  packages: AppPackage[],
  healthTimeoutMs: number,
  verb: 'start' | 'restart',
): Promise<ControlResult[]> {
  const results: ControlResult[] = [];
  for (const pkg of packages) results.push(await startPackage(pm2, config, pkg, healthTimeoutMs, verb));
  return results;
}

async function startPackage(
  pm2: Pm2,
  config: ResolvedConfig,
  pkg: AppPackage,
  healthTimeoutMs: number,
  verb: 'start' | 'restart',
): Promise<ControlResult> {
  const release = verifyDeployed(config.root, pkg, verb);
  const running = isDaemonRunning(pm2.home) ? await instancesOf(pm2, pkg.name) : [];
  if (leavesRunning(verb, running)) {
    const problem = await waitRunning(pkg, healthTimeoutMs);
    if (problem) throw unhealthy(pm2, config, pkg, 'already running', problem, packageLogTail(pm2, pkg, config));
    return { name: pkg.name, action: 'already running', instances: running.length };
  }
  // `start` brings back the count a deploy would: a count set with `opsctl scale` is kept (README, "`opsctl deploy`")
  const launch = await launchRelease(pm2, config, pkg, release, { running, scale: verb === 'start' });
  const problem = await waitLaunched(pm2, launch, healthTimeoutMs);
  if (problem) throw unhealthy(pm2, config, pkg, launch.action, problem, launchLogTail(launch, config));
  markLive(config.root, pkg.name, release, identityEnv(config, pkg));
  return { name: pkg.name, action: launch.action, instances: (await instancesOf(pm2, pkg.name)).length };
}

/** The release `current` points at; a package never deployed has nothing to start (exit 3). */
function verifyDeployed(root: string, pkg: AppPackage, verb: string): string {
  const release = currentRelease(root, pkg.name);
  if (!release || !existsSync(deployPaths(root).current(pkg.name))) {
    throw new OpsError('NOT_DEPLOYED', `${pkg.name} has not been deployed yet, so there is nothing to ${verb}.`, {
      hint: `Run \`opsctl deploy ${pkg.name}\` first.`,
      exitCode: ExitCode.failed,
    });
  }
  return release;
}

/** The failed health gate, with the package's last log lines under the message (README, "Exit codes": 3). */
function unhealthy(
  pm2: Pm2,
  config: ResolvedConfig,
  pkg: AppPackage,
  action: string,
  problem: string,
  tail: string[],
): OpsError {
  const lines = tail.length ? `\nIts last log lines:\n${tail.map((l) => `    ${l}`).join('\n')}` : '';
  const message = sourcePathsIn(`${pkg.name} was ${action} but is not healthy: ${problem}.`, config);
  return new OpsError('HEALTH', `${message}${lines}`, {
    hint: logTailHint(pkg.name, pm2.home, tail.length ? 'message' : 'none'),
    exitCode: ExitCode.failed,
  });
}

/** Stop each package's processes (kept in PM2's list, so `start` brings them back). No daemon: nothing to stop. */
export async function stopPackages(pm2: Pm2, packages: AppPackage[]): Promise<ControlResult[]> {
  if (!isDaemonRunning(pm2.home)) return packages.map((p) => ({ name: p.name, action: 'not running', instances: 0 }));
  const list = await pm2.jlist();
  const results: ControlResult[] = [];
  for (const pkg of packages) {
    const mine = list.filter((p) => p.name === pkg.name);
    // `stop` holds the app's lock, so no deploy runs: a candidate now was left by a killed one (README, "`opsctl status`")
    if (list.some((p) => p.name === candidateName(pkg.name))) {
      await pm2.action('delete', [candidateName(pkg.name)]);
      results.push({
        name: candidateName(pkg.name),
        action: 'deleted (a candidate left by a deploy that did not finish)',
        instances: 0,
      });
    }
    if (!mine.some((p) => p.state === 'online' || p.state === 'launching')) {
      results.push({ name: pkg.name, action: 'not running', instances: 0 });
      continue;
    }
    await pm2.action('stop', [pkg.name]);
    results.push({ name: pkg.name, action: 'stopped', instances: 0 });
  }
  return results;
}

/** Parse `n`, `+n` or `-n` against the current count. */
export function scaleTarget(spec: string, current: number): number {
  const match = /^([+-]?)(\d+)$/.exec(spec.trim());
  if (!match)
    throw usageError(
      `scale: expected n, +n or -n, got "${spec}".`,
      'For example: `opsctl scale backend 4` or `opsctl scale backend +1`.',
    );
  const n = Number(match[2]);
  const target = match[1] === '+' ? current + n : match[1] === '-' ? current - n : n;
  if (target < 1) {
    throw usageError(
      `scale: ${spec} would leave ${target} instances.`,
      'Scale to at least 1; `opsctl stop <package>` stops it.',
    );
  }
  return target;
}

/** Scale a running cluster-mode package; to the current count is a no-op. */
export async function scalePackage(
  pm2: Pm2,
  root: string,
  pkg: AppPackage,
  spec: string,
): Promise<{ from: number; to: number; changed: boolean }> {
  const command = startCommand(pkg);
  if (!command) throw usageError(`${pkg.name} has no start script, so there is nothing to scale.`);
  if (!command.cluster) {
    throw usageError(
      `${pkg.name} runs through \`npm start\` (fork mode), which cannot share its port between instances.`,
      'Make its start script `node <file>` so PM2 can run it in cluster mode.',
    );
  }
  const running = isDaemonRunning(pm2.home)
    ? (await pm2.jlist()).filter((p) => p.name === pkg.name && p.state === 'online')
    : [];
  if (!running.length) {
    throw new OpsError('NOT_RUNNING', `${pkg.name} is not running.`, {
      hint: `Run \`opsctl deploy ${pkg.name}\` (or \`opsctl start ${pkg.name}\`) first.`,
      exitCode: ExitCode.failed,
    });
  }
  const target = scaleTarget(spec, running.length);
  if (target === running.length) return { from: running.length, to: target, changed: false };
  await pm2.scale(pkg.name, target);
  // kept by later deploys until the config's count changes (README, "Deploy")
  const config = wantedInstances(pkg);
  const release = currentRelease(root, pkg.name);
  if (release)
    updateLive(root, pkg.name, { release, scaled: target === config ? undefined : { instances: target, config } });
  return { from: running.length, to: target, changed: true };
}
