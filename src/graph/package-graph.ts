import { configError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';

/**
 * Order packages so each comes after the packages it depends on (Kahn's algorithm, stable: ties keep the
 * config's order). Dependencies outside `packages` (not selected) are ignored. A cycle (a package depending on
 * itself included: it would wait for itself forever) is a config error; `source` names the config file in it.
 */
export function orderPackages(packages: AppPackage[], source?: string): AppPackage[] {
  const names = new Set(packages.map((p) => p.name));
  const pending = new Map(packages.map((p) => [p.name, p.dependsOn.filter((d) => names.has(d))]));
  const ordered: AppPackage[] = [];
  while (pending.size) {
    const ready = packages.filter((p) => pending.get(p.name)?.every((d) => !pending.has(d)));
    if (!ready.length) throw cycleError(pending, source);
    for (const p of ready) pending.delete(p.name);
    ordered.push(...ready);
  }
  return ordered;
}

/** Group packages into waves: every package of a wave depends only on packages of earlier waves. */
export function packageWaves(packages: AppPackage[]): AppPackage[][] {
  const ordered = orderPackages(packages);
  const names = new Set(packages.map((p) => p.name));
  const wave = new Map<string, number>();
  const waves: AppPackage[][] = [];
  for (const p of ordered) {
    const level = Math.max(-1, ...p.dependsOn.filter((d) => names.has(d)).map((d) => wave.get(d) ?? -1)) + 1;
    wave.set(p.name, level);
    if (!waves[level]) waves[level] = [];
    waves[level].push(p);
  }
  return waves;
}

function cycleError(pending: Map<string, string[]>, source?: string): Error {
  const cycle = findCycle(pending);
  const where = source ? `${source}: ` : '';
  if (cycle.length === 2) {
    return configError(
      `${where}packages.${cycle[0]}.dependsOn lists ${cycle[0]} itself: a package cannot wait for itself to start.`,
      `Remove "${cycle[0]}" from packages.${cycle[0]}.dependsOn.`,
    );
  }
  return configError(
    `${where}packages: dependsOn forms a cycle: ${cycle.join(' → ')}`,
    'Remove one of these dependsOn entries (or the file:/workspace dependency it was inferred from).',
  );
}

function findCycle(pending: Map<string, string[]>): string[] {
  const start = [...pending.keys()][0]!;
  const path: string[] = [];
  let node = start;
  while (!path.includes(node)) {
    path.push(node);
    node = (pending.get(node) ?? []).find((d) => pending.has(d)) ?? start;
  }
  return [...path.slice(path.indexOf(node)), node];
}

/** A promise per package that settles when its steps are done; dependents wait on it. */
export interface Gate {
  done: Promise<void>;
  resolve(): void;
  reject(reason: Error): void;
}

export function createGates(packages: AppPackage[]): Map<string, Gate> {
  const gates = new Map<string, Gate>();
  for (const p of packages) {
    let resolve!: () => void;
    let reject!: (reason: Error) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {}); // observed by dependents; an unobserved failure is not an unhandled rejection
    gates.set(p.name, { done, resolve, reject });
  }
  return gates;
}

/**
 * Wait for the selected dependencies of `pkg`. Resolves with the name of the first dependency that failed,
 * or undefined when all succeeded.
 */
export async function waitForDependencies(pkg: AppPackage, gates: Map<string, Gate>): Promise<string | undefined> {
  for (const dep of pkg.dependsOn) {
    const gate = gates.get(dep);
    if (!gate) continue;
    try {
      await gate.done;
    } catch {
      return dep;
    }
  }
  return undefined;
}
