import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareRelease } from '../../src/app/releases.js';
import { appPackage } from '../helpers/check-context.js';

/** Releases keep relative symlinks relative (README, "Deploy"): an old release runs its own binaries. */
const root = mkdtempSync(join(tmpdir(), 'opsctl-symlinks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const npm = (cwd: string, args: string[]) =>
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--offline'], { cwd, stdio: 'pipe' });

/** A tarball of the `tool` package whose binary prints `version`; the api depends on it. */
function packTool(version: string, semver: string): void {
  const dir = join(root, `tool-src-${version}`);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'tool', version: semver, bin: { tool: 'bin/tool.js' } }),
  );
  writeFileSync(join(dir, 'bin', 'tool.js'), `#!/usr/bin/env node\nconsole.log('tool ${version}');\n`, {
    mode: 0o755,
  });
  npm(dir, ['pack', '--pack-destination', root]);
  mkdirSync(join(root, 'api'), { recursive: true });
  writeFileSync(
    join(root, 'api', 'package.json'),
    JSON.stringify({ name: 'api', version: '1.0.0', dependencies: { tool: `file:../tool-${semver}.tgz` } }),
  );
}

describe('release symlinks', () => {
  it('after `npm ci` replaced a binary, the earlier release still runs its own (old) binary', async () => {
    const dir = join(root, 'api');
    packTool('one', '1.0.0');
    npm(dir, ['install']);
    const pkg = appPackage({ name: 'api', dir, path: 'api' });
    const first = await prepareRelease(root, pkg, 'aaaaaaaaaaaa');
    const link = readlinkSync(join(first, 'node_modules', '.bin', 'tool'));
    expect(isAbsolute(link)).toBe(false);

    packTool('two', '2.0.0');
    npm(dir, ['install']);
    npm(dir, ['ci']);
    const run = (release: string) =>
      execFileSync(join(release, 'node_modules', '.bin', 'tool'), { encoding: 'utf8' }).trim();
    expect(run(dir)).toBe('tool two');
    expect(run(first)).toBe('tool one');
  }, 60_000);
});
