import { readLive } from '../app/live.js';
import type { AppPackage } from '../packages/types.js';
import { wantedInstances } from './launch.js';

/** The count a deploy keeps: one set with `opsctl scale`, until the config's `instances` changes (README, "Deploy"). */
export function targetInstances(root: string, pkg: AppPackage): number {
  const config = wantedInstances(pkg);
  const scaled = readLive(root, pkg.name)?.scaled;
  return scaled && scaled.config === config ? scaled.instances : config;
}
