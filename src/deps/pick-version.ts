import semver from 'semver';
import type { Packument, PackumentVersion } from './types.js';

/** The shapes of a registry spec, as npm-package-arg classifies them. */
export type SpecType = 'range' | 'version' | 'tag';

export interface PickOptions {
  /** Versions whose `engines.node` excludes this are avoided, as npm does. Default: this Node. */
  nodeVersion?: string;
}

/** npm-package-arg: a valid version, else a valid range, else a tag (a URL-safe word). Null: not a registry spec. */
export function specType(spec: string): SpecType | null {
  const trimmed = spec.trim();
  if (trimmed === '' || semver.valid(trimmed, { loose: true })) return trimmed === '' ? 'range' : 'version';
  if (semver.validRange(trimmed, { loose: true }) !== null) return 'range';
  return encodeURIComponent(trimmed) === trimmed ? 'tag' : null;
}

/**
 * The version npm would pick for `spec` (a port of npm-pick-manifest without `before`, staging and policies):
 * the `latest` tag when it satisfies the range, is not deprecated and suits this Node; otherwise the best
 * satisfying version, preferring non-deprecated, engine-compatible ones. Undefined when none matches (ETARGET).
 */
export function pickVersion(packument: Packument, spec: string, options: PickOptions = {}): string | undefined {
  const nodeVersion = options.nodeVersion ?? process.version;
  const versions = packument.versions ?? {};
  const tags = packument['dist-tags'] ?? {};
  const type = specType(spec);
  if (type === null) return undefined;

  if (type === 'tag') {
    const ver = tags[spec.trim()];
    return ver && versions[ver] ? ver : undefined;
  }
  if (type === 'version') {
    const ver = semver.clean(spec, { loose: true });
    return ver && versions[ver] ? ver : undefined;
  }

  const range = spec.trim() === '' ? '*' : spec.trim();
  const latest = tags.latest;
  if (latest && (range === '*' || semver.satisfies(latest, range, { loose: true }))) {
    const mani = versions[latest];
    if (mani && engineOk(mani, nodeVersion) && !mani.deprecated) return latest;
  }

  const candidates = Object.entries(versions).filter(([ver]) => semver.satisfies(ver, range, { loose: true }));
  candidates.sort(([va, ma], [vb, mb]) => {
    const ea = engineOk(ma, nodeVersion);
    const eb = engineOk(mb, nodeVersion);
    const da = !ma.deprecated;
    const db = !mb.deprecated;
    return (
      Number(db && eb) - Number(da && ea) ||
      Number(eb) - Number(ea) ||
      Number(db) - Number(da) ||
      semver.rcompare(va, vb, true)
    );
  });
  return candidates[0]?.[0];
}

function engineOk(mani: PackumentVersion, nodeVersion: string): boolean {
  const wanted = mani.engines?.node;
  if (!wanted || typeof wanted !== 'string') return true;
  try {
    return semver.satisfies(nodeVersion, wanted, { includePrerelease: true });
  } catch {
    return true;
  }
}
