import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pickVersion, specType } from '../../src/deps/pick-version.js';
import type { Packument } from '../../src/deps/types.js';

const REGISTRY = join(import.meta.dirname, '../fixtures/deps/registry');
const doc = (name: string) => JSON.parse(readFileSync(join(REGISTRY, `${name}.json`), 'utf8')) as Packument;

function packument(latest: string, versions: Record<string, { deprecated?: string; node?: string }>): Packument {
  return {
    name: 'x',
    'dist-tags': { latest, next: '3.0.0-beta.1' },
    versions: Object.fromEntries(
      Object.entries(versions).map(([v, m]) => [
        v,
        {
          version: v,
          ...(m.deprecated ? { deprecated: m.deprecated } : {}),
          ...(m.node ? { engines: { node: m.node } } : {}),
        },
      ]),
    ),
  };
}

describe('pickVersion (npm-pick-manifest semantics) over recorded registry documents', () => {
  it('wanted is the highest version in range; latest is the latest dist-tag', () => {
    // the answers npm gave for these documents (test/fixtures/deps/recorded)
    expect(pickVersion(doc('semver'), '^6.0.0')).toBe('6.3.2');
    expect(pickVersion(doc('semver'), '^5.0.0')).toBe('5.7.3');
    expect(pickVersion(doc('semver'), '*')).toBe('7.8.6');
    expect(pickVersion(doc('ms'), '~2.0.0')).toBe('2.0.0');
    expect(pickVersion(doc('ms'), '2.0.0')).toBe('2.0.0');
    expect(pickVersion(doc('is-number'), '^6.0.0')).toBe('6.0.0');
  });

  it('an exact version, a tag and an unknown version', () => {
    const d = packument('2.0.0', { '1.0.0': {}, '2.0.0': {}, '3.0.0-beta.1': {} });
    expect(pickVersion(d, '1.0.0')).toBe('1.0.0');
    expect(pickVersion(d, 'next')).toBe('3.0.0-beta.1');
    expect(pickVersion(d, 'nope')).toBeUndefined();
    expect(pickVersion(d, '^9.0.0')).toBeUndefined();
    expect(pickVersion(d, '')).toBe('2.0.0');
    expect(pickVersion(d, '*')).toBe('2.0.0'); // pre-releases are not picked by a range
  });

  it('a deprecated latest is passed over for the best non-deprecated version', () => {
    const d = packument('2.1.0', { '2.0.0': {}, '2.0.5': {}, '2.1.0': { deprecated: 'broken' } });
    expect(pickVersion(d, '*')).toBe('2.0.5');
    expect(pickVersion(d, '^2.0.0')).toBe('2.0.5');
  });

  it('versions whose engines exclude this Node are avoided, deprecated ones last', () => {
    const d = packument('3.0.0', { '2.0.0': {}, '2.5.0': { deprecated: 'x' }, '3.0.0': { node: '>=99' } });
    expect(pickVersion(d, '*', { nodeVersion: 'v20.0.0' })).toBe('2.0.0');
    expect(pickVersion(d, '*', { nodeVersion: 'v100.0.0' })).toBe('3.0.0');
    const allDeprecated = packument('1.1.0', { '1.0.0': { deprecated: 'a' }, '1.1.0': { deprecated: 'b' } });
    expect(pickVersion(allDeprecated, '^1.0.0')).toBe('1.1.0');
  });

  it('classifies specs the way npm-package-arg does', () => {
    expect(specType('1.2.3')).toBe('version');
    expect(specType('^1.2.3')).toBe('range');
    expect(specType('')).toBe('range');
    expect(specType('latest')).toBe('tag');
    expect(specType('file:../lib')).toBeNull();
    expect(specType('github:user/repo')).toBeNull();
    expect(specType('https://example.com/x.tgz')).toBeNull();
  });
});
