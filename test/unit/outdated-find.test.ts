import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byRisk } from '../../src/deps/bump.js';
import { parseNpmOutdated } from '../../src/deps/npm-outdated.js';
import { findOutdated } from '../../src/deps/outdated.js';
import type { PackumentFetcher } from '../../src/deps/registry.js';
import type { Packument } from '../../src/deps/types.js';
import type { AppPackage } from '../../src/packages/types.js';
import { appPackage } from '../helpers/check-context.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/deps');
const read = (path: string) => JSON.parse(readFileSync(join(FIXTURES, path), 'utf8'));
const PACKAGES = ['backend', 'frontend', 'shared', 'worker'];

/** A fetcher over the recorded registry documents; counts requests per name. */
function recordedFetcher(): PackumentFetcher & { requests: string[] } {
  const requests: string[] = [];
  return {
    requests,
    async get(name: string) {
      requests.push(name);
      try {
        return { ok: true, packument: read(`registry/${name}.json`) as Packument };
      } catch {
        return { ok: false, status: 404 };
      }
    },
    close() {},
  };
}

let root: string;
let packages: AppPackage[];

beforeAll(() => {
  // the fixture app with node_modules as it was when `npm outdated --json` was recorded
  root = mkdtempSync(join(tmpdir(), 'opsctl-outdated-'));
  const installed = read('recorded/installed.json') as Record<string, Record<string, string>>;
  packages = PACKAGES.map((name) => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), readFileSync(join(FIXTURES, 'app', name, 'package.json')));
    for (const [dep, version] of Object.entries(installed[name] ?? {})) {
      mkdirSync(join(dir, 'node_modules', dep), { recursive: true });
      writeFileSync(join(dir, 'node_modules', dep, 'package.json'), JSON.stringify({ name: dep, version }));
    }
    return appPackage({ name, dir });
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('findOutdated against recorded npm outdated --json', () => {
  it('gives npm’s answer for every package: missing, dev, wanted below current, no lockfile', async () => {
    const fetcher = recordedFetcher();
    const { dependencies, skipped } = await findOutdated(packages, { fetcher, nodeVersion: 'v20.11.0' });
    const expected = PACKAGES.flatMap((p) => {
      const text = readFileSync(join(FIXTURES, `recorded/${p}.npm-outdated.json`), 'utf8').replaceAll('<root>', root);
      const dev = new Set(Object.keys(read(`app/${p}/package.json`).devDependencies ?? {}));
      return parseNpmOutdated(text, p, dev);
    });
    expect(dependencies).toEqual(expected.sort(byRisk));
    expect(skipped).toEqual([]);
    // spot checks of the cases the issue names
    const line = (p: string, n: string) => dependencies.find((d) => d.package === p && d.name === n);
    expect(line('backend', 'left-pad')).toMatchObject({ current: null, wanted: '1.3.0', bump: null });
    expect(line('backend', 'is-odd')).toMatchObject({ kind: 'dev', current: '2.0.0', bump: 'major' });
    expect(line('frontend', 'ms')).toMatchObject({ current: '2.1.3', wanted: '2.0.0', latest: '2.1.3', bump: 'minor' });
    expect(line('shared', 'kleur')).toBeUndefined(); // a missing devDependency is left out, as npm does
    expect(line('frontend', 'is-number')).toBeUndefined(); // up to date
    expect(dependencies[0]!.bump).toBe('major'); // riskiest first
  });

  it('skips dependencies the registry does not know (404), like npm; omits dev under omit=dev', async () => {
    const dir = join(root, 'odd');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        dependencies: { 'not-on-registry': '^1.0.0', local: 'file:../lib', ms: '^2.0.0' },
        devDependencies: { kleur: '^3.0.0' },
      }),
    );
    mkdirSync(join(dir, 'node_modules/kleur'), { recursive: true });
    writeFileSync(join(dir, 'node_modules/kleur/package.json'), '{"version":"3.0.0"}');
    const pkg = { ...packages[0]!, name: 'odd', dir };
    const res = await findOutdated([pkg], { fetcher: recordedFetcher(), omitDev: true });
    expect(res.dependencies.map((d) => d.name)).toEqual(['ms']);
    expect(res.skipped).toEqual([{ package: 'odd', name: 'not-on-registry', reason: 'registry answered 404' }]);
  });
});
