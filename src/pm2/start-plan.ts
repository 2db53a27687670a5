import { identityEnv, unsetSources } from '../app/env.js';
import { type EnvChange, envDiffSince, readLive } from '../app/live.js';
import type { ResolvedConfig } from '../config/types.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from './cli.js';
import { isDaemonRunning } from './home.js';
import type { Pm2Instance } from './processes.js';

/**
 * A key start/restart would give a package differently from when it last ran (README, "`opsctl status`,
 * `start|stop|restart`"): deploy's comparison of fingerprints, never values.
 */
export interface StartEnvChange extends EnvChange {
  /** The value is lost or changed because the config (or opsctl's default) reads these variables, not set here. */
  unsetVariables?: string[];
}

/** What `start`/`restart` is about to do to one package, before it does anything. */
export interface StartPlan {
  name: string;
  /** False when `start` finds every instance online: it leaves them running, so their environment stays. */
  acts: boolean;
  envChanges: StartEnvChange[];
}

/** `start` leaves a package alone when every instance is online; `restart` always acts. */
export function leavesRunning(verb: 'start' | 'restart', running: Pm2Instance[]): boolean {
  return verb === 'start' && running.length > 0 && running.every((p) => p.state === 'online');
}

/** Per package, whether it will be (re)started and what differs in the environment it would get. Changes nothing. */
export async function planStart(
  pm2: Pm2,
  config: ResolvedConfig,
  packages: AppPackage[],
  verb: 'start' | 'restart',
): Promise<StartPlan[]> {
  const list = isDaemonRunning(pm2.home) ? await pm2.jlist() : [];
  return packages.map((pkg) => {
    const acts = !leavesRunning(
      verb,
      list.filter((p) => p.name === pkg.name),
    );
    return { name: pkg.name, acts, envChanges: acts ? envChangesOf(config, pkg) : [] };
  });
}

/**
 * The environment the package would get now against the one PM2 was last given (`live.json`, written by deploy,
 * start and restart). Nothing recorded: nothing to compare.
 */
export function envChangesOf(config: ResolvedConfig, pkg: AppPackage): StartEnvChange[] {
  const live = readLive(config.root, pkg.name);
  if (!live) return [];
  const unset = unsetSources(config, pkg);
  return envDiffSince(config.root, live, identityEnv(config, pkg)).map((c) =>
    c.change !== 'added' && unset[c.name] ? { ...c, unsetVariables: unset[c.name] } : c,
  );
}

/** A change that loses what the config reads from a variable not set in this shell or `.env`: it needs `--yes`. */
export function isUnsetLoss(change: StartEnvChange): boolean {
  return Boolean(change.unsetVariables?.length);
}
