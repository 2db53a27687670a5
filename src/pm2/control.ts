import { existsSync } from 'node:fs';
import type { ResolvedConfig } from '../config/types.js';
import { packageEnv } from '../deploy/env.js';
import { waitHealthy } from '../deploy/health.js';
import { deployPaths } from '../deploy/paths.js';
import { currentRelease } from '../deploy/releases.js';
import { OpsError, usageError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from './cli.js';
import { startCommand, writeEcosystem } from './ecosystem.js';
import { isDaemonRunning } from './home.js';

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

/** Start (or reload, when online) the current release of each package and wait until it is healthy. */
export async function startPackages(
  pm2: Pm2,
  config: ResolvedConfig,
  packages: AppPackage[],
  healthTimeoutMs: number,
  verb: 'start' | 'restart',
): Promise<ControlResult[]> {
  const paths = deployPaths(config.root);
  const results: ControlResult[] = [];
  for (const pkg of packages) {
    const release = currentRelease(config.root, pkg.name);
    if (!release || !existsSync(paths.current(pkg.name))) {
      throw new OpsError('NOT_DEPLOYED', `${pkg.name} has not been deployed yet, so there is nothing to ${verb}.`, {
        hint: `Run \`opsctl deploy ${pkg.name}\` first.`,
        exitCode: 3,
      });
    }
    const before = isDaemonRunning(pm2.home) ? (await pm2.jlist()).filter((p) => p.name === pkg.name) : [];
    const online = before.filter((p) => p.state === 'online');
    const env = { ...packageEnv(config, pkg), OPSCTL_RELEASE: release };
    let action: string;
    if (verb === 'start' && online.length === before.length && online.length) action = 'already running';
    else if (online.length) {
      await pm2.action('reload', [pkg.name], env);
      action = 'reloaded';
    } else {
      if (before.length) await pm2.action('delete', [pkg.name]);
      await pm2.start(writeEcosystem(paths.apps, pkg, paths.current(pkg.name)), env);
      action = 'started';
    }
    const problem = await waitHealthy(pkg, { timeoutMs: healthTimeoutMs });
    if (problem) {
      throw new OpsError('HEALTH', `${pkg.name} was ${action} but is not healthy: ${problem}.`, {
        hint: `\`opsctl logs ${pkg.name}\` shows why.`,
        exitCode: 3,
      });
    }
    results.push({ name: pkg.name, action, instances: (await pm2.jlist()).filter((p) => p.name === pkg.name).length });
  }
  return results;
}

/** Stop each package's processes (kept in PM2's list, so `start` brings them back). No daemon: nothing to stop. */
export async function stopPackages(pm2: Pm2, packages: AppPackage[]): Promise<ControlResult[]> {
  if (!isDaemonRunning(pm2.home)) return packages.map((p) => ({ name: p.name, action: 'not running', instances: 0 }));
  const list = await pm2.jlist();
  const results: ControlResult[] = [];
  for (const pkg of packages) {
    const mine = list.filter((p) => p.name === pkg.name);
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
      exitCode: 3,
    });
  }
  const target = scaleTarget(spec, running.length);
  if (target === running.length) return { from: running.length, to: target, changed: false };
  await pm2.scale(pkg.name, target);
  return { from: running.length, to: target, changed: true };
}
