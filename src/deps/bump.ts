import semver from 'semver';
import type { Bump, OutdatedDependency } from './types.js';

const RANK: Record<Bump, number> = { major: 3, minor: 2, patch: 1 };

/** The kind of step between two versions (pre-release steps count as their base step). */
export function bumpBetween(from: string, to: string): Bump | null {
  const diff = semver.valid(from) && semver.valid(to) ? semver.diff(from, to) : null;
  if (!diff) return null;
  if (diff.endsWith('major')) return 'major';
  if (diff.endsWith('minor')) return 'minor';
  return 'patch';
}

/** The riskiest step an outdated line offers: current → latest, or current → wanted (a wanted below current). */
export function bumpOf(current: string | null, wanted: string, latest: string): Bump | null {
  if (!current) return null;
  return maxBump(bumpBetween(current, latest), bumpBetween(current, wanted));
}

export function maxBump(a: Bump | null, b: Bump | null): Bump | null {
  if (!a) return b;
  if (!b) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** `--fail-on`: does this line reach the level? `any` counts every line, missing ones included. */
export function reachesLevel(dep: OutdatedDependency, level: Bump | 'any'): boolean {
  if (level === 'any') return true;
  return dep.bump !== null && RANK[dep.bump] >= RANK[level];
}

/** Riskiest first: major, minor, patch, then not installed; then by package and dependency name. */
export function byRisk(a: OutdatedDependency, b: OutdatedDependency): number {
  const ra = a.bump ? RANK[a.bump] : 0;
  const rb = b.bump ? RANK[b.bump] : 0;
  return rb - ra || a.package.localeCompare(b.package) || a.name.localeCompare(b.name);
}
