import { createHash } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyUpdateTargets } from '../../src/deps/update-plan.js';
import { updatePackage } from '../../src/deps/update-run.js';
import { isOpsError } from '../../src/errors.js';
import type { AppPackage } from '../../src/packages/types.js';
import type { Runner } from '../../src/process/runner.js';
import { fakeRunner } from '../helpers/fake-runner.js';

const root = mkdtempSync(join(tmpdir(), 'opsctl-update-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function installed(dir: string, name: string, version: string) {
  mkdirSync(join(dir, 'node_modules', name), { recursive: true });
  writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }));
}

function fixture(name: string): AppPackage {
  const dir = join(root, name);
  mkdirSync(join(dir, 'node_modules/.bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{\n  "dependencies": { "ms": "^2.0.0" }\n}\n');
  writeFileSync(
    join(dir, 'package-lock.json'),
    '{ "lockfileVersion": 3, "packages": { "node_modules/ms": { "version": "2.0.0" } } }',
  );
  installed(dir, 'ms', '2.0.0');
  symlinkSync('../ms/index.js', join(dir, 'node_modules/.bin/ms'));
  return {
    name,
    dir,
    path: name,
    scripts: { test: 'x' },
    dependencies: {},
    devDependencies: {},
    dependsOn: [],
    env: {},
    outputs: [],
  };
}

/** Every path, file content and symlink target under dir. */
function treeHash(dir: string): string {
  const hash = createHash('sha256');
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, entry.name);
      hash.update(p);
      if (entry.isSymbolicLink()) hash.update(`->${readlinkSync(p)}`);
      else if (entry.isDirectory()) walk(p);
      else hash.update(readFileSync(p));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

/** A runner whose `npm update` rewrites the package as npm would; `npm test` exits with testExit. */
function simulatedNpm(dir: string, testExit: number, updateExit = 0): Runner {
  const table = fakeRunner({
    'npm test': { exitCode: testExit, stdout: testExit ? '' : 'ok', stderr: testExit ? 'AssertionError: boom' : '' },
  });
  return {
    async run(command, args, options) {
      if (args[0] === 'update') {
        writeFileSync(
          join(dir, 'package-lock.json'),
          '{ "lockfileVersion": 3, "packages": { "node_modules/ms": { "version": "2.1.3" } } }',
        );
        installed(dir, 'ms', '2.1.3');
        installed(dir, 'new-transitive', '1.0.0');
        rmSync(join(dir, 'node_modules/.bin/ms'));
        return {
          exitCode: updateExit,
          stdout: '',
          stderr: updateExit ? 'npm error code E500' : '',
          timedOut: false,
          notFound: false,
          durationMs: 1,
        };
      }
      return table.run(command, args, options);
    },
  };
}

describe('updatePackage with --test', () => {
  it('keeps the update when the tests pass, and reports before → after', async () => {
    const pkg = fixture('passes');
    const [target] = await verifyUpdateTargets([pkg], []);
    const res = await updatePackage(target!, {
      runner: simulatedNpm(pkg.dir, 0),
      test: true,
      backupDir: join(root, '.b1'),
    });
    expect(res).toEqual({
      package: 'passes',
      status: 'updated',
      changes: [{ package: 'passes', name: 'ms', from: '2.0.0', to: '2.1.3' }],
    });
    await expect(lstat(join(root, '.b1'))).rejects.toThrow(); // backup dropped
  });

  it('restores package.json, the lockfile and node_modules byte for byte when the tests fail', async () => {
    const pkg = fixture('fails');
    const before = treeHash(pkg.dir);
    const [target] = await verifyUpdateTargets([pkg], []);
    const res = await updatePackage(target!, {
      runner: simulatedNpm(pkg.dir, 1),
      test: true,
      backupDir: join(root, '.b2'),
    });
    expect(res.status).toBe('restored');
    expect(res.reason).toBe('npm test exited 1');
    expect(res.output).toContain('AssertionError: boom');
    expect(treeHash(pkg.dir)).toBe(before);
  });

  it('an npm failure restores too, and is exit 3 with npm’s words', async () => {
    const pkg = fixture('npm-fails');
    const before = treeHash(pkg.dir);
    const [target] = await verifyUpdateTargets([pkg], []);
    const err = await updatePackage(target!, {
      runner: simulatedNpm(pkg.dir, 0, 1),
      test: true,
      backupDir: join(root, '.b3'),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOpsError(err) && err.exitCode).toBe(3);
    expect(isOpsError(err) && err.hint).toContain('npm error code E500');
    expect(treeHash(pkg.dir)).toBe(before);
  });
});
