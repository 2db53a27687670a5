import { join, sep } from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import type { Pm2 } from './cli.js';
import { isDaemonRunning } from './home.js';
import { candidateName } from './launch.js';
import type { Pm2Instance } from './processes.js';

/**
 * Processes opsctl started for this app (they run in its `.opsctl/releases/`) under a name no longer in the config
 * (README, "status"): a package removed from the config keeps running, holding its port, until `stop --orphans`.
 * The folder test keeps other apps' processes out when PM2_HOME is shared.
 */
export function orphansOf(instances: Pm2Instance[], config: ResolvedConfig): Pm2Instance[] {
  const names = new Set(packageNames(config));
  const releases = join(config.root, '.opsctl', 'releases') + sep;
  return instances.filter((p) => !names.has(p.name) && p.cwd?.startsWith(releases) && !isCandidate(p, config));
}

/**
 * Candidates (`<pkg>~candidate`) of the app's packages (README, "`opsctl status`"): part of a deploy, not strays;
 * one whose deploy was killed is deleted by the next deploy of the package, or by `stop --orphans`.
 */
export function candidatesOf(instances: Pm2Instance[], config: ResolvedConfig): Pm2Instance[] {
  return instances.filter((p) => isCandidate(p, config));
}

function isCandidate(p: Pm2Instance, config: ResolvedConfig): boolean {
  const releases = join(config.root, '.opsctl', 'releases') + sep;
  return packageNames(config).some((name) => p.name === candidateName(name)) && Boolean(p.cwd?.startsWith(releases));
}

function packageNames(config: ResolvedConfig): string[] {
  return (config.appPackages ?? config.packages).map((p) => p.name);
}

/** The orphans' names, each once, in PM2's order. */
export function orphanNames(orphans: Pm2Instance[]): string[] {
  return [...new Set(orphans.map((p) => p.name))];
}

/** `stop --orphans`: stop and delete them from PM2's list (nothing would start them again). */
export async function stopOrphans(
  pm2: Pm2,
  config: ResolvedConfig,
): Promise<Array<{ name: string; action: string; instances: number }>> {
  if (!isDaemonRunning(pm2.home)) return [];
  const all = await pm2.jlist();
  // `stop` holds the app's lock, so no deploy runs: a candidate now was left by one that did not finish
  const orphans = [...orphansOf(all, config), ...candidatesOf(all, config)];
  const names = orphanNames(orphans);
  if (names.length) await pm2.action('delete', names);
  const candidates = new Set(orphanNames(candidatesOf(all, config)));
  return names.map((name) => ({
    name,
    action: candidates.has(name)
      ? 'stopped and deleted (a candidate left by a deploy that did not finish)'
      : 'stopped and deleted (not in the config)',
    instances: orphans.filter((p) => p.name === name).length,
  }));
}
