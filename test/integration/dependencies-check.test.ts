import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependenciesCheck } from '../../src/checks/dependencies.js';
import { loadConfig } from '../../src/config/load.js';
import { checkContext } from '../helpers/check-context.js';

let root: string;
const backend = () => join(root, 'backend');
const npm = (args: string[], cwd: string) =>
  execFileSync('npm', [...args, '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd,
    encoding: 'utf8',
    stdio: 'pipe',
  });

/** A real npm install, offline: two local packages packed to tarballs and installed from them. */
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-deps-int-'));
  const vendor = join(root, 'vendor');
  for (const name of ['left-pad-lite', 'greeter']) {
    mkdirSync(join(vendor, name), { recursive: true });
    writeFileSync(join(vendor, name, 'package.json'), JSON.stringify({ name, version: '1.2.3' }));
    writeFileSync(join(vendor, name, 'index.js'), 'module.exports = 1;\n');
    npm(['pack', '--pack-destination', vendor], join(vendor, name));
  }
  mkdirSync(backend());
  writeFileSync(
    join(backend(), 'package.json'),
    JSON.stringify({ name: 'backend', version: '1.0.0', scripts: { start: 'node .' } }),
  );
  npm(['install', '../vendor/left-pad-lite-1.2.3.tgz', '../vendor/greeter-1.2.3.tgz'], backend());
}, 120_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function check() {
  const config = loadConfig({ cwd: root, processEnv: { PATH: process.env.PATH } });
  return dependenciesCheck.run(checkContext(config));
}

describe('dependencies check after a real npm install', () => {
  it('passes while node_modules matches package-lock.json', async () => {
    expect(await check()).toEqual({ status: 'pass', message: 'backend: 2 installed packages match package-lock.json' });
  });

  it('fails when an installed version drifts from the lockfile', async () => {
    const file = join(backend(), 'node_modules/greeter/package.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, original.replace('1.2.3', '1.2.0'));
    try {
      const result = await check();
      expect(result).toMatchObject({
        status: 'fail',
        message: 'backend: 1 package differs from package-lock.json (greeter 1.2.0 installed, lockfile 1.2.3)',
      });
      expect(result.hint).toContain('npm ci');
    } finally {
      writeFileSync(file, original);
    }
  });

  it('fails when package.json was edited without updating the lockfile', async () => {
    const file = join(backend(), 'package.json');
    const original = readFileSync(file, 'utf8');
    const manifest = JSON.parse(original);
    manifest.dependencies.greeter = '^1.3.0';
    writeFileSync(file, JSON.stringify(manifest));
    try {
      const result = await check();
      expect(result.status).toBe('fail');
      expect(result.message).toMatch(
        /^backend: package\.json and package-lock\.json are out of sync: 1 dependency \(greeter \^1\.3\.0 in package\.json, .*greeter-1\.2\.3\.tgz in package-lock\.json\)/,
      );
      expect(result.hint).toContain('npm install');
    } finally {
      writeFileSync(file, original);
    }
  });

  it('fails when node_modules is gone', async () => {
    rmSync(join(backend(), 'node_modules'), { recursive: true });
    expect(await check()).toMatchObject({ status: 'fail', message: 'backend: node_modules missing (run npm ci)' });
  });
});

describe('a package without dependencies', () => {
  it('passes with npm install’s lockfile and no node_modules (npm creates none)', async () => {
    const lone = mkdtempSync(join(tmpdir(), 'opsctl-deps-none-'));
    try {
      mkdirSync(join(lone, 'frontend'));
      writeFileSync(join(lone, 'frontend', 'package.json'), JSON.stringify({ name: 'frontend', version: '1.0.0' }));
      npm(['install'], join(lone, 'frontend'));
      const config = loadConfig({ cwd: lone, processEnv: { PATH: process.env.PATH } });
      expect(await dependenciesCheck.run(checkContext(config))).toEqual({
        status: 'pass',
        message: 'frontend: no dependencies',
      });
    } finally {
      rmSync(lone, { recursive: true, force: true });
    }
  });
});
