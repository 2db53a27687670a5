import { dependencyDirs, readInstalled } from '../packages/installed.js';
import type { AppPackage } from '../packages/types.js';
import { bumpOf, byRisk } from './bump.js';
import { declaredDependencies, readManifest } from './declared.js';
import { pickVersion, specType } from './pick-version.js';
import type { PackumentFetcher } from './registry.js';
import type { DeclaredDependency, OutdatedDependency } from './types.js';

export interface OutdatedOptions {
  fetcher: PackumentFetcher;
  nodeVersion?: string;
  /** npm's `omit=dev` (or NODE_ENV=production): dev dependencies are left out, as npm does. */
  omitDev?: boolean;
  /** Only these dependency names (all when empty). */
  names?: string[];
}

/** Packages whose dependencies could not be looked up at the registry (404/403): npm skips them silently too. */
export interface OutdatedReport {
  dependencies: OutdatedDependency[];
  skipped: Array<{ package: string; name: string; reason: string }>;
}

/**
 * What `npm outdated --json` reports in each package, computed in-process: every registry document is fetched
 * once, concurrently, for all packages. Sorted riskiest first.
 */
export async function findOutdated(packages: AppPackage[], options: OutdatedOptions): Promise<OutdatedReport> {
  const skipped: OutdatedReport['skipped'] = [];
  const perPackage = await Promise.all(
    packages.map(async (pkg) => {
      const declared = declaredDependencies(await readManifest(pkg.dir));
      const wanted = options.names?.length ? declared.filter((d) => options.names!.includes(d.name)) : declared;
      const dirs = dependencyDirs(pkg.dir);
      const lines = await Promise.all(wanted.map((dep) => outdatedLine(pkg, dirs, dep, options, skipped)));
      return lines.filter((l): l is OutdatedDependency => l !== undefined);
    }),
  );
  return { dependencies: perPackage.flat().sort(byRisk), skipped };
}

async function outdatedLine(
  pkg: AppPackage,
  dirs: string[],
  dep: DeclaredDependency,
  options: OutdatedOptions,
  skipped: OutdatedReport['skipped'],
): Promise<OutdatedDependency | undefined> {
  if (options.omitDev && dep.type === 'dev') return undefined;
  const target = registryTarget(dep);
  if (!target) return undefined; // file:, git, URLs, workspace: not a registry dependency
  const found = await readInstalled(dirs, dep.name);
  const installed = found?.version ? found : undefined; // a folder without a version counts as missing
  // npm leaves out missing dependencies other than plain `dependencies`
  if (!installed && dep.type !== 'prod') return undefined;

  const doc = await options.fetcher.get(target.name);
  if (!doc.ok) {
    skipped.push({ package: pkg.name, name: dep.name, reason: `registry answered ${doc.status}` });
    return undefined;
  }
  const pick = { nodeVersion: options.nodeVersion };
  const wanted = pickVersion(doc.packument, target.spec, pick);
  const latest = pickVersion(doc.packument, '*', pick);
  if (!wanted || !latest) {
    skipped.push({ package: pkg.name, name: dep.name, reason: `no version matches ${target.spec}` });
    return undefined;
  }
  const current = installed?.version ?? null;
  if (current === wanted && wanted === latest) return undefined;
  return {
    package: pkg.name,
    name: target.alias ? dep.spec.replace('npm', dep.name) : dep.name,
    kind: dep.type === 'dev' ? 'dev' : 'prod',
    current,
    wanted,
    latest,
    bump: bumpOf(current, wanted, latest),
    ...(installed ? { location: installed.path } : {}),
  };
}

/** The registry name and spec to look up; `npm:real@range` aliases resolve to the real package. */
export function registryTarget(dep: DeclaredDependency): { name: string; spec: string; alias: boolean } | undefined {
  if (dep.spec.startsWith('npm:')) {
    const rest = dep.spec.slice(4);
    const at = rest.indexOf('@', 1);
    const name = at > 0 ? rest.slice(0, at) : rest;
    const spec = at > 0 ? rest.slice(at + 1) : '*';
    return specType(spec) ? { name, spec, alias: true } : undefined;
  }
  return specType(dep.spec) ? { name: dep.name, spec: dep.spec, alias: false } : undefined;
}
