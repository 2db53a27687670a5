import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutdatedDependency } from '../../src/deps/types.js';
import { newRange, planChanges, verifyUpdateTargets } from '../../src/deps/update-plan.js';
import { npmCommands } from '../../src/deps/update-run.js';
import { isOpsError } from '../../src/errors.js';
import type { AppPackage } from '../../src/packages/types.js';
import { appPackage } from '../helpers/check-context.js';

const root = mkdtempSync(join(tmpdir(), 'opsctl-update-plan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pkg(name: string, manifest: object, lockfile?: string): AppPackage {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
  if (lockfile !== undefined) writeFileSync(join(dir, 'package-lock.json'), lockfile);
  return appPackage({ name, dir });
}

const LOCK = JSON.stringify({ lockfileVersion: 3, packages: {} });

async function failure(promise: Promise<unknown>) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isOpsError(err)) throw new Error(`expected an OpsError, got ${String(err)}`);
  return err;
}

describe('update: checks before anything changes', () => {
  const api = pkg(
    'api',
    { dependencies: { ms: '^2.0.0', lib: 'file:../lib' }, devDependencies: { kleur: '^3.0.0' } },
    LOCK,
  );
  const web = pkg('web', { dependencies: { semver: '^6.0.0' } }, LOCK);

  it('targets the packages that declare the named dependencies', async () => {
    const targets = await verifyUpdateTargets([api, web], ['kleur']);
    expect(targets.map((t) => [t.pkg.name, t.deps.map((d) => d.name), t.named, t.lockfile])).toEqual([
      ['api', ['kleur'], true, 'package-lock.json'],
    ]);
    const all = await verifyUpdateTargets([api, web], []);
    expect(all.map((t) => t.deps.map((d) => d.name))).toEqual([['ms', 'kleur'], ['semver']]); // file: is not updated
  });

  it('an unknown dependency name is a usage error listing the declared ones', async () => {
    const err = await failure(verifyUpdateTargets([api, web], ['kleur', 'lodash']));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('No selected package depends on "lodash"; nothing was changed.');
    expect(err.hint).toBe('Dependencies declared: kleur, ms, semver.');
  });

  it('a package without a lockfile, or with a corrupt one, is refused (exit 2) and named', async () => {
    const bare = pkg('bare', { dependencies: { ms: '^2.0.0' } });
    const noLock = await failure(verifyUpdateTargets([api, bare], []));
    expect(noLock.exitCode).toBe(2);
    expect(noLock.message).toBe('bare (bare) has no package-lock.json; nothing was changed.');
    const broken = pkg('broken', { dependencies: { ms: '^2.0.0' } }, '{"lockfileVersion": 3, "packages": {');
    const corrupt = await failure(verifyUpdateTargets([broken], []));
    expect(corrupt.exitCode).toBe(2);
    expect(corrupt.message).toMatch(
      /^broken\/package-lock.json is not a valid npm lockfile \(.+\); nothing was changed\.$/,
    );
    expect(corrupt.hint).toContain('npm install --package-lock-only');
    const empty = pkg('empty', { dependencies: { ms: '^2.0.0' } }, 'null');
    expect((await failure(verifyUpdateTargets([empty], []))).message).toContain('(no lockfileVersion)');
    expect(readFileSync(join(broken.dir, 'package-lock.json'), 'utf8')).toBe('{"lockfileVersion": 3, "packages": {');
  });
});

describe('update: plans and npm command lines', () => {
  it('new ranges keep their style', () => {
    expect(newRange('^6.0.0', '7.0.0')).toBe('^7.0.0');
    expect(newRange('~2.0.0', '2.1.3')).toBe('~2.1.3');
    expect(newRange('2.0.0', '2.1.3')).toBe('2.1.3');
    expect(newRange('>=1 <2', '3.0.0')).toBe('^3.0.0');
    expect(newRange('^2.0.0', '2.5.0')).toBeUndefined(); // already in range
    expect(newRange('latest', '9.0.0')).toBeUndefined();
  });

  it('plans wanted (or latest) per declared dependency, and the npm commands that do it', async () => {
    const p = pkg('plan', { dependencies: { ms: '~2.0.0', semver: '^6.0.0', exact: '1.0.0' } }, LOCK);
    const [target] = await verifyUpdateTargets([p], []);
    const line = (name: string, current: string | null, wanted: string, latest: string): OutdatedDependency => ({
      package: 'plan',
      name,
      kind: 'prod',
      current,
      wanted,
      latest,
      bump: null,
    });
    const outdated = [
      line('ms', '2.0.0', '2.0.0', '2.1.3'),
      line('semver', '6.0.0', '6.3.2', '6.3.2'),
      line('exact', '1.0.0', '1.0.0', '1.2.0'),
    ];
    expect(planChanges([target!], outdated, false)).toEqual([
      { package: 'plan', name: 'semver', from: '6.0.0', to: '6.3.2' },
    ]);
    const latest = planChanges([target!], outdated, true);
    expect(latest).toEqual([
      { package: 'plan', name: 'ms', from: '2.0.0', to: '2.1.3', range: '~2.1.3' },
      { package: 'plan', name: 'semver', from: '6.0.0', to: '6.3.2' },
      { package: 'plan', name: 'exact', from: '1.0.0', to: '1.2.0', range: '1.2.0' },
    ]);
    expect(npmCommands(target!, latest)).toEqual([
      ['install', 'ms@~2.1.3'],
      ['install', '--save-exact', 'exact@1.2.0'],
      ['update', 'semver'],
    ]);
    expect(npmCommands(target!, undefined)).toEqual([['update']]);
    expect(npmCommands({ ...target!, named: true }, undefined)).toEqual([['update', 'ms', 'semver', 'exact']]);
  });
});
