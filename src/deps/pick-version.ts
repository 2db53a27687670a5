// specType stays hand-written: npm-package-arg is not a direct dependency, and this is all of it that opsctl needs.
import pickManifest from 'npm-pick-manifest';
import semver from 'semver';
import type { Packument } from './types.js';

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
 * The version npm would pick for `spec` (npm-pick-manifest, as `npm outdated` calls it, without `before`): the
 * `latest` tag when it satisfies the range, is not deprecated and suits this Node; otherwise the best satisfying
 * version, preferring non-deprecated, engine-compatible ones. Undefined when none matches (ETARGET).
 */
export function pickVersion(packument: Packument, spec: string, options: PickOptions = {}): string | undefined {
  if (specType(spec) === null) return undefined;
  try {
    return pickManifest(packument, spec, { nodeVersion: options.nodeVersion ?? process.version }).version;
  } catch (err) {
    if ((err as { code?: string }).code === 'ETARGET') return undefined;
    throw err;
  }
}
