import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findNpmCli } from '../../src/audit/npm-batch.js';

const root = realpathSync(mkdtempSync(join(tmpdir(), 'opsctl-npm-cli-')));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An npm install (`<dir>/lib/node_modules/npm`) of `version` and a `bin/npm` link to its npm-cli.js, as npm makes. */
function npmInstall(name: string, version: string, pkgName = 'npm'): string {
  const npmRoot = join(root, name, 'lib/node_modules/npm');
  mkdirSync(join(npmRoot, 'bin'), { recursive: true });
  writeFileSync(join(npmRoot, 'package.json'), JSON.stringify({ name: pkgName, version }));
  writeFileSync(join(npmRoot, 'bin/npm-cli.js'), '#!/usr/bin/env node\n', { mode: 0o755 });
  mkdirSync(join(root, name, 'bin'));
  symlinkSync(join(npmRoot, 'bin/npm-cli.js'), join(root, name, 'bin/npm'));
  return join(root, name, 'bin');
}

describe('findNpmCli: the npm on PATH, when its audit can run several packages in one process', () => {
  it('npm 10.8 or later, found through its link: its npm-cli.js', () => {
    const bin = npmInstall('new', '10.8.0');
    expect(findNpmCli({ PATH: bin })).toBe(join(root, 'new/lib/node_modules/npm/bin/npm-cli.js'));
  });

  it('an older npm, or a package that is not npm: none (npm then runs once per package)', () => {
    expect(findNpmCli({ PATH: npmInstall('old', '10.7.0') })).toBeUndefined();
    expect(findNpmCli({ PATH: npmInstall('other', '11.0.0', 'not-npm') })).toBeUndefined();
  });

  it('the first npm on PATH decides, as the shell picks it; no npm at all: none', () => {
    const older = npmInstall('first', '9.9.0');
    const newer = npmInstall('second', '11.2.0');
    expect(findNpmCli({ PATH: [older, newer].join(delimiter) })).toBeUndefined();
    expect(findNpmCli({ PATH: [join(root, 'nothing-here'), newer].join(delimiter) })).toMatch(/second/);
    expect(findNpmCli({ PATH: '' })).toBeUndefined();
  });
});
