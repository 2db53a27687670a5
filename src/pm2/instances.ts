import { availableParallelism } from 'node:os';
import { readLive } from '../app/live.js';
import type { AppPackage } from '../packages/types.js';
import { desiredInstances, startCommand } from './ecosystem.js';

/** The count a deploy keeps: one set with `opsctl scale`, until the config's `instances` changes (README, "Deploy"). */
export function targetInstances(root: string, pkg: AppPackage): number {
  const config = wantedInstances(pkg);
  const scaled = readLive(root, pkg.name)?.scaled;
  return scaled && scaled.config === config ? scaled.instances : config;
}

/** The instance count the config asks for (`max`: one per CPU). */
export function wantedInstances(pkg: AppPackage): number {
  const command = startCommand(pkg);
  const n = command ? desiredInstances(pkg, command) : 1;
  return n === 'max' ? availableParallelism() : n;
}
