import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';

// A repository git refuses to read (one owned by another user: "detected dubious ownership", or a format it does
// not know) is not "not a git repository": under production its uncommitted changes must not ship unnoticed.
let dir: string;
// the test's git and opsctl's read no configuration of the caller (a global safe.directory = * would let git read a
// checkout owned by another user): HOME is the test's folder, no system config, no GIT_* of the shell
const gitEnv = () => ({
  ...Object.fromEntries(
    Object.keys(process.env)
      .filter((k) => k.startsWith('GIT_'))
      .map((k) => [k, undefined]),
  ),
  HOME: dir,
  GIT_CONFIG_NOSYSTEM: '1',
});
const git = (...args: string[]) => {
  const res = spawnSync('git', args, {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      ...gitEnv(),
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@t',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@t',
    },
  });
  if (res.status !== 0) throw new Error(`git ${args.join(' ')}: ${res.stderr}`);
};

function makeDirtyRepo(): void {
  dir = mkdtempSync(join(tmpdir(), 'opsctl prov '));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0' }));
  writeFileSync(join(dir, 'opsctl.config.json'), JSON.stringify({ packages: { api: { path: '.' } } }));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'first');
  writeFileSync(join(dir, 'uncommitted.js'), '// not committed\n');
}

afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function expectRefusedUnderProduction(): Promise<void> {
  // a dry run changes nothing, so it runs and says why the real deploy would be refused (README, "Provenance")
  const res = await opsctl(['deploy', '--dry-run', '--env', 'production', '--json'], { cwd: dir, env: gitEnv() });
  expect(res.exitCode, res.stdout).toBe(0);
  const doc = JSON.parse(res.stdout);
  expect(doc.refused.message).toMatch(
    /^git could not read the working tree .*: a production deploy ships committed code only/,
  );
  expect(doc.refused.hint).toContain('--allow-dirty');
  const allowed = await opsctl(['deploy', '--dry-run', '--env', 'production', '--allow-dirty', '--json'], {
    cwd: dir,
    env: gitEnv(),
  });
  expect(allowed.exitCode, allowed.stdout).toBe(0);
  expect(JSON.parse(allowed.stdout).refused).toBeUndefined();
  expect(JSON.parse(allowed.stdout).provenance.git).toMatchObject({
    repository: true,
    dirty: true,
    unreadable: expect.stringMatching(/^git could not read it/),
  });
}

describe('provenance of a repository git cannot read', () => {
  it('an unknown repository format: production refuses it as it refuses a dirty tree', async () => {
    makeDirtyRepo();
    const config = join(dir, '.git', 'config');
    writeFileSync(
      config,
      readFileSync(config, 'utf8').replace(/repositoryformatversion = \d+/, 'repositoryformatversion = 99'),
    );
    await expectRefusedUnderProduction();
  });

  it.skipIf(process.getuid?.() !== 0)(
    'a checkout owned by another user (dubious ownership), deployed as root',
    async () => {
      makeDirtyRepo();
      const chown = spawnSync('chown', ['-R', 'nobody', dir]);
      if (chown.status !== 0) chownSync(dir, 65534, 65534);
      await expectRefusedUnderProduction();
    },
  );

  it('an app folder the repository above it ignores: no commit claimed for code git does not track', async () => {
    dir = mkdtempSync(join(tmpdir(), 'opsctl prov '));
    git('init', '-q', '-b', 'main');
    writeFileSync(join(dir, '.gitignore'), 'apps/\n');
    git('add', '-A');
    git('commit', '-q', '-m', 'configs only');
    const app = join(dir, 'apps', 'shop');
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'shop', version: '1.0.0' }));
    writeFileSync(join(app, 'opsctl.config.json'), JSON.stringify({ packages: { api: { path: '.' } } }));
    const res = await opsctl(['deploy', '--dry-run', '--json'], { cwd: app, env: gitEnv() });
    expect(res.exitCode, res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).provenance.git).toEqual({
      repository: false,
      reason: 'the app root is ignored by the git repository it is in (git tracks none of its files)',
    });
  });

  it('git missing from PATH in a checkout (a .git is there): counted dirty, refused under production', async () => {
    makeDirtyRepo();
    // a PATH with node only (node's own folder may hold git: /usr/bin)
    const bin = join(dir, '.opsctl', 'bin');
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, 'node'));
    const env = { ...gitEnv(), PATH: bin };
    const res = await opsctl(['deploy', '--dry-run', '--env', 'production', '--json'], { cwd: dir, env });
    expect(res.exitCode, res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).refused.message).toMatch(
      /^git could not read the working tree \(git is not installed\)/,
    );
    const allowed = await opsctl(['deploy', '--dry-run', '--env', 'production', '--allow-dirty', '--json'], {
      cwd: dir,
      env,
    });
    expect(allowed.exitCode, allowed.stdout).toBe(0);
    expect(JSON.parse(allowed.stdout).provenance.git).toMatchObject({ repository: true, dirty: true });
    // no .git at all and no git: not a repository, nothing refused (a server deploying from an archive)
    rmSync(join(dir, '.git'), { recursive: true, force: true });
    const plain = await opsctl(['deploy', '--dry-run', '--env', 'production', '--json'], { cwd: dir, env });
    expect(plain.exitCode, plain.stdout).toBe(0);
    expect(JSON.parse(plain.stdout).refused).toBeUndefined();
    expect(JSON.parse(plain.stdout).provenance.git).toEqual({ repository: false, reason: 'git is not installed' });
  });
});
