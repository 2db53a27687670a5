import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';

/**
 * Provenance (README, "Provenance"): a release records git commit, branch, dirty flag, version, who and when;
 * `deploy --json` and `status` show them; production refuses a dirty tree without --allow-dirty; `status` says
 * when the running release is a rollback. A real git repository, a real PM2.
 */
let app: Pm2App;
const SERVER = "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n// v1\n";
// git of the test, never the caller's repository or identity (hermetic: GIT_* of the shell left out)
const git = (...args: string[]) => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
  const res = spawnSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.invalid', ...args], {
    cwd: app.dir,
    env: { ...env, GIT_CONFIG_NOSYSTEM: '1', HOME: app.dir },
    encoding: 'utf8',
  });
  if (res.status !== 0) throw new Error(`git ${args.join(' ')}: ${res.stderr}`);
  return res.stdout.trim();
};
type Doc = {
  provenance: {
    git: {
      repository: boolean;
      commit?: string;
      branch?: string;
      dirty?: boolean;
      changedFiles?: number;
      reason?: string;
    };
    versions: Record<string, string | null>;
    by: string;
    at: string;
  };
  packages: Array<{ release?: string; rolledBackTo?: string }>;
};
const statusOf = async () => JSON.parse((await app.run(['status', '--json'])).stdout).packages[0];
const releases = () => readdirSync(join(app.dir, '.opsctl', 'releases', 'api')).filter((n) => /^[0-9a-f]{12}$/.test(n));

beforeAll(async () => {
  app = await createPm2App('provenance', { files: { 'api/server.js': SERVER } });
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'first');
}, 60_000);
afterAll(() => app?.cleanup());

describe('provenance of a release', () => {
  it('a clean tree: deploy --json and status show commit, branch, version, who and when', async () => {
    const commit = git('rev-parse', 'HEAD');
    const started = Date.now();
    const res = await app.run(['deploy', '--json', '--env', 'production']);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as Doc;
    expect(doc.provenance).toEqual({
      git: { repository: true, commit, branch: 'main', dirty: false, changedFiles: 0 },
      versions: { api: '1.0.0' },
      by: userInfo().username,
      at: expect.any(String),
    });
    expect(Date.parse(doc.provenance.at)).toBeGreaterThanOrEqual(started - 1000);
    const status = await statusOf();
    expect(status.provenance).toEqual({ ...doc.provenance, versions: undefined, version: '1.0.0' });
    expect(status.rolledBack).toBeUndefined();
    const human = await app.run(['status']);
    expect(human.stdout).toContain(
      `api: release ${status.release}, ${commit.slice(0, 7)} on main, version 1.0.0, deployed by ${userInfo().username} at ${doc.provenance.at}`,
    );
  }, 120_000);

  it('uncommitted changes: refused under --env production (exit 2, naming the count and --allow-dirty), nothing changed', async () => {
    const before = await statusOf();
    writeFileSync(join(app.dir, 'api', 'server.js'), `${SERVER}// v2\n`);
    writeFileSync(join(app.dir, 'api', 'notes.txt'), 'untracked\n');
    const refused = await app.run(['deploy', '--env', 'production', '--json']);
    expect(refused.exitCode).toBe(2);
    expect(JSON.parse(refused.stdout).error).toMatchObject({
      code: 'USAGE',
      message:
        'The git working tree has uncommitted changes (2 changed files); a production deploy ships committed code only.',
      hint: expect.stringContaining('--allow-dirty'),
    });
    expect((await statusOf()).release).toBe(before.release);
    expect(releases()).toEqual([before.release]);

    // a dry run changes nothing: it runs, and its plan says a real deploy would be refused and why
    const dry = await app.run(['deploy', '--env', 'production', '--dry-run', '--json']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      refused: {
        message:
          'The git working tree has uncommitted changes (2 changed files); a production deploy ships committed code only.',
        hint: expect.stringContaining('--allow-dirty'),
      },
    });
    const dryHuman = await app.run(['deploy', '--env', 'production', '--dry-run']);
    expect(dryHuman.exitCode, dryHuman.stderr).toBe(0);
    expect(dryHuman.stderr).toContain(
      '⚠ A real deploy would be refused: the git working tree has uncommitted changes (2 changed files)',
    );
    expect(dryHuman.stderr).toContain('--allow-dirty');
    expect((await statusOf()).release).toBe(before.release);
    expect(releases()).toEqual([before.release]);
    const dryAllowed = await app.run(['deploy', '--env', 'production', '--dry-run', '--allow-dirty', '--json']);
    expect(JSON.parse(dryAllowed.stdout).refused).toBeUndefined();

    const allowed = await app.run(['deploy', '--env', 'production', '--allow-dirty', '--json']);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect((JSON.parse(allowed.stdout) as Doc).provenance.git).toMatchObject({ dirty: true, changedFiles: 2 });
    const after = await statusOf();
    expect(after.release).not.toBe(before.release);
    expect(after.provenance.git).toMatchObject({ dirty: true, changedFiles: 2 });
    expect((await app.run(['status'])).stdout).toContain(', dirty (2 changed files), version 1.0.0');
  }, 120_000);

  it('outside production a dirty tree deploys, recorded as dirty', async () => {
    writeFileSync(join(app.dir, 'api', 'server.js'), `${SERVER}// v3\n`);
    const res = await app.run(['deploy', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect((JSON.parse(res.stdout) as Doc).provenance.git).toMatchObject({ dirty: true });
  }, 120_000);

  it('a release that fails once live is removed at once, and status says the running one is a rollback', async () => {
    const before = await statusOf();
    const kept = releases().sort();
    // the candidate (on a scratch port) passes; the live instance on the package's port crashes
    writeFileSync(
      join(app.dir, 'api', 'server.js'),
      `if (process.env.PORT === '${app.port}') { console.error('live-only crash'); process.exit(1); }\n${SERVER}`,
    );
    const res = await app.run(['deploy', '--json']);
    expect(res.exitCode, res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout) as Doc;
    expect(doc.packages[0]!.rolledBackTo).toBe(before.release);
    expect(releases().sort()).toEqual(kept);
    const status = await statusOf();
    expect(status.release).toBe(before.release);
    expect(status.rolledBack).toEqual({
      from: expect.stringMatching(/^[0-9a-f]{12}$/),
      why: 'failed',
      at: expect.any(String),
    });
    expect(status.provenance).toEqual(before.provenance);
    expect((await app.run(['status'])).stdout).toContain(
      `api: ↺ a rollback: release ${status.rolledBack.from} failed once live at ${status.rolledBack.at}, and ${before.release} was put back`,
    );
    // the next good release clears the mark
    writeFileSync(join(app.dir, 'api', 'server.js'), `${SERVER}// v4\n`);
    expect((await app.run(['deploy'])).exitCode).toBe(0);
    expect((await statusOf()).rolledBack).toBeUndefined();
  }, 180_000);

  it('deploy --rollback puts back the release live before, marked as a rollback; again goes further back', async () => {
    const current = await statusOf();
    const plan = await app.run(['deploy', '--rollback', '--dry-run', '--json']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    const [target] = JSON.parse(plan.stdout).packages;
    expect(target).toMatchObject({
      name: 'api',
      from: current.release,
      release: expect.stringMatching(/^[0-9a-f]{12}$/),
    });
    expect((await statusOf()).release).toBe(current.release); // a dry run changes nothing

    const res = await app.run(['deploy', '--rollback', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ rollback: true, packages: [target] });
    const back = await statusOf();
    expect(back.release).toBe(target.release);
    expect(back.instances.every((i: { state: string }) => i.state === 'online')).toBe(true);
    expect(back.rolledBack).toEqual({ from: current.release, why: 'requested', at: expect.any(String) });
    // the release keeps the provenance it was deployed with (the dirty v3 one)
    expect(back.provenance.git).toMatchObject({ dirty: true });
    expect((await app.run(['status'])).stdout).toContain(
      `api: ↺ a rollback: put back in place of release ${current.release} by deploy --rollback at ${back.rolledBack.at}`,
    );

    const again = await app.run(['deploy', '--rollback', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    const further = JSON.parse(again.stdout).packages[0];
    expect(further.from).toBe(target.release);
    expect([current.release, target.release]).not.toContain(further.release);
  }, 180_000);

  it('not a git repository: provenance says so and production refuses nothing', async () => {
    rmSync(join(app.dir, '.git'), { recursive: true, force: true });
    writeFileSync(join(app.dir, 'api', 'server.js'), `${SERVER}// v5\n`);
    const res = await app.run(['deploy', '--env', 'production', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect((JSON.parse(res.stdout) as Doc).provenance.git).toEqual({
      repository: false,
      reason: 'not a git repository',
    });
    const human = await app.run(['deploy', '--env', 'production', '--dry-run']);
    expect(human.stderr).toMatch(/^Deploying \(not a git repository\) as \S+ \(production\)/m);
    expect((await app.run(['status'])).stdout).toMatch(
      /api: release [0-9a-f]{12}, not a git repository, version 1\.0\.0/,
    );
  }, 120_000);
});
