import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dependenciesCheck } from '../../src/checks/dependencies.js';
import { isInstallCurrent, readInstallState } from '../../src/packages/install-state.js';
import type { AppPackage } from '../../src/packages/types.js';
import { checkContext } from '../helpers/check-context.js';
import { fakeRunner } from '../helpers/fake-runner.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-deps-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, value: unknown): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), typeof value === 'string' ? value : JSON.stringify(value));
}

function pkg(
  name: string,
  dependencies: Record<string, string>,
  devDependencies: Record<string, string> = {},
): AppPackage {
  return {
    name,
    dir: join(root, name),
    path: name,
    scripts: {},
    dependencies,
    devDependencies,
    dependsOn: [],
    env: {},
    outputs: [],
  };
}

/** A backend locked to express 4.19.2 (with debug 2.6.9 below it) and vitest as a dev dependency. */
function lockedBackend(): AppPackage {
  const p = pkg('backend', { express: '^4.19.0' }, { vitest: '^1.0.0' });
  write('backend/package-lock.json', {
    lockfileVersion: 3,
    packages: {
      '': { name: 'backend', dependencies: { express: '^4.19.0' }, devDependencies: { vitest: '^1.0.0' } },
      'node_modules/express': { version: '4.19.2' },
      'node_modules/express/node_modules/debug': { version: '2.6.9' },
      'node_modules/vitest': { version: '1.6.0', dev: true },
      'node_modules/fsevents': { version: '2.3.3', optional: true },
    },
  });
  write('backend/node_modules/express/package.json', { version: '4.19.2' });
  write('backend/node_modules/express/node_modules/debug/package.json', { version: '2.6.9' });
  write('backend/node_modules/vitest/package.json', { version: '1.6.0' });
  return p;
}

const run = (packages: AppPackage[]) =>
  dependenciesCheck.run(checkContext({ root, packages }, { runner: fakeRunner({}) }));

describe('readInstallState', () => {
  it('passes an install matching its lockfile (optional packages may be absent)', async () => {
    const state = await readInstallState(lockedBackend(), root);
    expect(state).toMatchObject({
      lockfile: 'package-lock.json',
      nodeModules: true,
      notInstalled: [],
      drift: [],
      lockedMissing: [],
      outOfSync: [],
      checked: 3,
    });
    expect(isInstallCurrent(state)).toBe(true);
    expect(await run([lockedBackend()])).toEqual({
      status: 'pass',
      message: 'backend: 3 installed packages match package-lock.json',
    });
  });

  it('reports versions that differ from the lockfile, nested ones included', async () => {
    const p = lockedBackend();
    write('backend/node_modules/express/package.json', { version: '4.18.2' });
    write('backend/node_modules/express/node_modules/debug/package.json', { version: '2.6.8' });
    const state = await readInstallState(p, root);
    expect(state.drift).toEqual([
      { name: 'express', installed: '4.18.2', locked: '4.19.2' },
      { name: 'debug', installed: '2.6.8', locked: '2.6.9' },
    ]);
    const result = await run([p]);
    expect(result.status).toBe('fail');
    expect(result.message).toBe(
      'backend: 2 packages differ from package-lock.json (express 4.18.2 installed, lockfile 4.19.2)',
    );
    expect(result.hint).toBe('Run npm ci in backend (cd backend && npm ci).');
  });

  it('accepts a production install without dev dependencies', async () => {
    const p = lockedBackend();
    rmSync(join(root, 'backend/node_modules/vitest'), { recursive: true });
    const state = await readInstallState(p, root);
    expect(state).toMatchObject({ devOmitted: true, notInstalled: [], lockedMissing: [] });
    expect((await run([p])).message).toBe(
      'backend: 2 installed packages match package-lock.json, dev dependencies omitted',
    );
  });

  it('reports a missing dependency and a missing node_modules', async () => {
    const p = lockedBackend();
    rmSync(join(root, 'backend/node_modules/express'), { recursive: true });
    expect((await run([p])).message).toBe('backend: 1 dependency not installed (express)');
    rmSync(join(root, 'backend/node_modules'), { recursive: true });
    expect(await run([p])).toMatchObject({ status: 'fail', message: 'backend: node_modules missing (run npm ci)' });
  });

  it('reports package.json and lockfile out of sync', async () => {
    const p = lockedBackend();
    p.dependencies = { express: '^4.20.0', pg: '^8.0.0' };
    const state = await readInstallState(p, root);
    expect(state.outOfSync).toEqual([
      { name: 'express', range: '^4.20.0', locked: '^4.19.0' },
      { name: 'pg', range: '^8.0.0', locked: undefined },
    ]);
    expect(state.notInstalled).toEqual(['pg']);
    const result = await run([p]);
    expect(result.message).toBe('backend: 1 dependency not installed (pg)');
    write('backend/node_modules/pg/package.json', { version: '8.11.0' });
    expect((await run([p])).message).toBe(
      'backend: package.json and package-lock.json are out of sync: 2 dependencies (express ^4.20.0 in package.json, ^4.19.0 in package-lock.json); npm ci will refuse',
    );
  });

  it('warns without a lockfile and names a yarn.lock', async () => {
    const p = pkg('frontend', { react: '^18.0.0' });
    write('frontend/node_modules/react/package.json', { version: '18.3.1' });
    write('frontend/yarn.lock', '# yarn lockfile v1\n');
    const result = await run([p, lockedBackend()]);
    expect(result.status).toBe('warn');
    expect(result.message).toBe(
      'frontend: no package-lock.json (has yarn.lock, which npm ignores); installs are not reproducible',
    );
    expect(result.details).toEqual([
      'warn: frontend: no package-lock.json (has yarn.lock, which npm ignores); installs are not reproducible',
      'pass: backend: 3 installed packages match package-lock.json',
    ]);
  });

  it('reads a workspace member against the lockfile at the app root, with hoisted packages', async () => {
    const p = pkg('api', { lodash: '^4.17.0' });
    p.dir = join(root, 'packages/api');
    p.path = 'packages/api';
    write('package-lock.json', {
      lockfileVersion: 3,
      packages: {
        '': { workspaces: ['packages/*'] },
        'packages/api': { dependencies: { lodash: '^4.17.0' } },
        'node_modules/lodash': { version: '4.17.21' },
        'node_modules/api': { resolved: 'packages/api', link: true },
      },
    });
    write('packages/api/package.json', { name: 'api' });
    write('node_modules/lodash/package.json', { version: '4.17.20' });
    const state = await readInstallState(p, root);
    expect(state.lockfile).toBe('../../package-lock.json');
    expect(state.drift).toEqual([{ name: 'lodash', installed: '4.17.20', locked: '4.17.21' }]);
  });

  it('finds a workspace member dependency hoisted to the workspace root without a lockfile', async () => {
    const p = pkg('api', { lodash: '^4.17.0', ms: '^2.0.0' });
    p.dir = join(root, 'packages/api');
    p.path = 'packages/api';
    write('package.json', { name: 'root', workspaces: ['packages/*'] });
    write('packages/api/package.json', { name: 'api' });
    write('node_modules/lodash/package.json', { version: '4.17.21' });
    write('packages/api/node_modules/ms/package.json', { version: '2.1.3' });
    expect((await readInstallState(p, root)).notInstalled).toEqual([]);
    // outside a workspace, a node_modules above the package is not its install (npm would not use it)
    write('package.json', { name: 'root' });
    expect((await readInstallState(p, root)).notInstalled).toEqual(['lodash']);
  });

  it('reads lockfileVersion 1', async () => {
    const p = pkg('legacy', { ms: '^2.0.0' });
    write('legacy/package-lock.json', { lockfileVersion: 1, dependencies: { ms: { version: '2.1.3' } } });
    write('legacy/node_modules/ms/package.json', { version: '2.1.2' });
    expect((await readInstallState(p, root)).drift).toEqual([{ name: 'ms', installed: '2.1.2', locked: '2.1.3' }]);
  });

  it('fails clearly on a corrupt lockfile', async () => {
    write('backend/package-lock.json', '{ not json');
    const result = await run([pkg('backend', { express: '^4.0.0' })]);
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/^backend: cannot read its lockfile: /);
  });
});
