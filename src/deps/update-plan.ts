import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { ExitCode, OpsError, usageError } from '../errors.js';
import { NPM_LOCKFILES } from '../packages/lockfile.js';
import type { AppPackage } from '../packages/types.js';
import { declaredDependencies, readManifest } from './declared.js';
import { registryTarget } from './outdated.js';
import { specType } from './pick-version.js';
import type { DeclaredDependency, OutdatedDependency } from './types.js';

/** One package `update` will touch: its registry dependencies in scope and its lockfile. */
export interface UpdateTarget {
  pkg: AppPackage;
  deps: DeclaredDependency[];
  /** Only the named dependencies (false: all of them). */
  named: boolean;
  lockfile: string;
}

/** One before → after line (from is null when the dependency was not installed). */
export interface PlannedChange {
  package: string;
  name: string;
  from: string | null;
  to: string;
  /** With --latest, the new range written to package.json when the old one excludes `to`. */
  range?: string;
}

/**
 * Check everything before changing anything: every named dependency is declared by a selected package, and every
 * package to touch has a readable package.json and an npm lockfile that parses. Throws an OpsError (exit 2).
 */
export async function verifyUpdateTargets(packages: AppPackage[], names: string[]): Promise<UpdateTarget[]> {
  const declared = await Promise.all(
    packages.map(async (pkg) => ({
      pkg,
      deps: declaredDependencies(await readManifest(pkg.dir)).filter((d) => registryTarget(d)),
    })),
  );
  const unknown = names.filter((n) => !declared.some((p) => p.deps.some((d) => d.name === n)));
  if (unknown.length) {
    const known = [...new Set(declared.flatMap((p) => p.deps.map((d) => d.name)))].sort();
    throw usageError(
      `No selected package depends on ${unknown.map((n) => `"${n}"`).join(', ')}; nothing was changed.`,
      known.length
        ? `Dependencies declared: ${known.slice(0, 12).join(', ')}${known.length > 12 ? ', …' : ''}.`
        : 'The selected packages declare no registry dependencies.',
    );
  }
  const targets: UpdateTarget[] = [];
  for (const { pkg, deps } of declared) {
    const inScope = names.length ? deps.filter((d) => names.includes(d.name)) : deps;
    if (!inScope.length) continue;
    targets.push({ pkg, deps: inScope, named: names.length > 0, lockfile: await verifyLockfile(pkg) });
  }
  return targets;
}

/** The package's npm lockfile name; throws (exit 2) when there is none or it does not parse. */
export async function verifyLockfile(pkg: AppPackage): Promise<string> {
  for (const name of NPM_LOCKFILES) {
    let text: string;
    try {
      text = await readFile(join(pkg.dir, name), 'utf8');
    } catch {
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw corrupt(pkg, name, (err as Error).message, err);
    }
    const version = (doc as { lockfileVersion?: unknown } | null)?.lockfileVersion;
    if (typeof version !== 'number') throw corrupt(pkg, name, 'no lockfileVersion');
    return name;
  }
  throw new OpsError('NO_LOCKFILE', `${pkg.name} (${pkg.path}) has no package-lock.json; nothing was changed.`, {
    hint: `opsctl update moves locked versions: run npm install in ${pkg.path}, commit package-lock.json, then update.`,
    exitCode: ExitCode.usage,
  });
}

function corrupt(pkg: AppPackage, file: string, why: string, cause?: unknown): OpsError {
  return new OpsError(
    'BAD_LOCKFILE',
    `${pkg.path}/${file} is not a valid npm lockfile (${why}); nothing was changed.`,
    {
      hint: `Restore it from version control, or regenerate it: cd ${pkg.path} && npm install --package-lock-only.`,
      exitCode: ExitCode.usage,
      cause,
    },
  );
}

/** What would change, from `outdated`'s answer: wanted within the ranges, or latest (and a new range) with --latest. */
export function planChanges(targets: UpdateTarget[], outdated: OutdatedDependency[], latest: boolean): PlannedChange[] {
  const changes: PlannedChange[] = [];
  for (const { pkg, deps } of targets) {
    for (const dep of deps) {
      const line = outdated.find((o) => o.package === pkg.name && o.name === dep.name);
      if (!line) continue;
      const to = latest ? line.latest : line.wanted;
      if (line.current === to) continue;
      const range = latest ? newRange(dep.spec, to) : undefined;
      changes.push({ package: pkg.name, name: dep.name, from: line.current, to, ...(range ? { range } : {}) });
    }
  }
  return changes;
}

/** The range to write for `version` when `spec` excludes it: same style (exact, ^, ~), else ^version. */
export function newRange(spec: string, version: string): string | undefined {
  const trimmed = spec.trim();
  if (specType(trimmed) === 'tag') return undefined; // a tag follows the registry by itself
  if (semver.validRange(trimmed, { loose: true }) && semver.satisfies(version, trimmed, { loose: true }))
    return undefined;
  if (semver.valid(trimmed, { loose: true })) return version;
  const prefix = /^([~^])\s*v?\d/.exec(trimmed)?.[1];
  return `${prefix ?? '^'}${version}`;
}
