import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFixtureApp, npm } from '../fixtures/deps/install-app.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';

let root: string;
let backend: string;

beforeAll(async () => {
  root = await copyFixtureApp({ install: true, only: ['backend'] });
  backend = join(root, 'backend');
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** package.json, the lockfile and every path, file and symlink under node_modules. */
function state(dir: string): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(join(dir, 'package.json')));
  hash.update(readFileSync(join(dir, 'package-lock.json')));
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      hash.update(p);
      if (e.isSymbolicLink()) hash.update(`->${readlinkSync(p)}`);
      else if (e.isDirectory()) walk(p);
      else hash.update(readFileSync(p));
    }
  };
  walk(join(dir, 'node_modules'));
  return hash.digest('hex');
}

const version = (name: string) =>
  JSON.parse(readFileSync(join(backend, 'node_modules', name, 'package.json'), 'utf8')).version;
const manifest = () => JSON.parse(readFileSync(join(backend, 'package.json'), 'utf8'));

describe('opsctl update (real npm, real registry)', () => {
  it('bad input changes nothing: unknown dependency, package without a lockfile, corrupt lockfile', async () => {
    const before = state(backend);
    const unknown = await opsctl(['update', 'no-such-dep', '-C', root]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('✖ No selected package depends on "no-such-dep"; nothing was changed.');
    const noLock = await opsctl(['update', 'ms', '-C', root]); // shared declares ms and has no lockfile
    expect(noLock.exitCode).toBe(2);
    expect(noLock.stderr).toContain('✖ shared (shared) has no package-lock.json; nothing was changed.');
    const lock = readFileSync(join(backend, 'package-lock.json'));
    writeFileSync(join(backend, 'package-lock.json'), lock.subarray(0, 200));
    const corrupt = await opsctl(['update', '-p', 'backend', '-C', root]);
    writeFileSync(join(backend, 'package-lock.json'), lock);
    expect(corrupt.exitCode).toBe(2);
    expect(corrupt.stderr).toMatch(
      /✖ backend\/package-lock.json is not a valid npm lockfile \(.+\); nothing was changed\./,
    );
    expect(hasStackTrace(unknown.stderr + noLock.stderr + corrupt.stderr)).toBe(false);
    expect(state(backend)).toBe(before);
  });

  it('--dry-run shows before → after (and new ranges with --latest) and changes nothing', async () => {
    const before = state(backend);
    const res = await opsctl(['update', '-p', 'backend', '--latest', '--dry-run', '--json', '-C', root]);
    expect(res.exitCode).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'update', ok: true, dryRun: true });
    expect(doc.changes).toContainEqual({
      package: 'backend',
      name: 'is-number',
      from: '6.0.0',
      to: '7.0.0',
      range: '^7.0.0',
    });
    expect(doc.changes).toContainEqual(expect.objectContaining({ name: 'left-pad', from: null }));
    expect(state(backend)).toBe(before);
  });

  it('--test with a failing test script restores package.json, the lockfile and node_modules byte for byte (exit 3)', async () => {
    const before = state(backend);
    const res = await opsctl(['update', 'semver', '--test', '-p', 'backend', '-C', root]);
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain(
      '✖ backend: npm test exited 1; package.json, the lockfile and node_modules were restored.',
    );
    expect(res.stderr).toContain('semver 6.3.2 installed; this app only works with 6.0.0');
    expect(state(backend)).toBe(before);
    expect(version('semver')).toBe('6.0.0');
  });

  it('--test with passing tests keeps the update and prints before → after', async () => {
    const res = await opsctl(['update', 'kleur', '--test', '-p', 'backend', '--json', '-C', root]);
    expect(res.exitCode).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.changes).toEqual([
      { package: 'backend', name: 'kleur', from: '3.0.0', to: expect.stringMatching(/^3\.\d+\.\d+$/) },
    ]);
    expect(version('kleur')).toBe(doc.changes[0].to);
    expect(manifest().devDependencies.kleur).toBe('^3.0.0'); // within the range: package.json untouched
    const again = await opsctl(['update', 'kleur', '-p', 'backend', '-C', root]);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('Everything was already up to date.');
  });

  it('--latest moves across majors and rewrites the range in its style', async () => {
    const res = await opsctl(['update', 'is-number', '--latest', '-p', 'backend', '-C', root]);
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toMatch(/^backend\s+is-number\s+6\.0\.0 → 7\.\d+\.\d+\s+\^7\.\d+\.\d+$/m);
    expect(manifest().dependencies['is-number']).toMatch(/^\^7\./);
    expect(version('is-number')).toMatch(/^7\./);
  });

  it('doctor dependencies agrees after an update, and catches lockfile and node_modules drift', async () => {
    const doctor = async () => {
      const res = await opsctl(['doctor', '--only', 'dependencies', '--json', '-p', 'backend', '-C', root]);
      return JSON.parse(res.stdout).checks[0] as { status: string; message: string };
    };
    // backend's left-pad was removed on purpose in the fixture; put it back so the tree matches the lockfile
    await npm(backend, ['install']);
    expect((await doctor()).status).toBe('pass');
    await npm(backend, ['install', '--no-save', 'kleur@3.0.1']);
    expect(await doctor()).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('1 package differs from package-lock.json (kleur 3.0.1 installed'),
    });
    await npm(backend, ['install']);
    const pkg = manifest();
    pkg.dependencies.ms = '^2.1.0';
    writeFileSync(join(backend, 'package.json'), JSON.stringify(pkg, null, 2));
    expect(await doctor()).toMatchObject({ status: 'fail', message: expect.stringContaining('out of sync') });
  });
});
