import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { freePort } from '../helpers/tcp.js';

/** A release is code + the environment the config and `.env` give it (README, "Deploy"): same inputs, no reload. */
let app: Pm2App;
const SECRET_OLD = `old-${process.pid}-value`;
const SECRET_NEW = `new-${process.pid}-value`;
type StartStep = { step: string; status: string; reason?: string };
const startStep = (stdout: string): StartStep =>
  JSON.parse(stdout).packages[0].steps.find((s: StartStep) => s.step === 'start');
const SERVER =
  "require('node:http').createServer((q, s) => s.end(JSON.stringify({ foo: process.env.FOO ?? null }))).listen(process.env.PORT);\n";
const restarts = async () => (await app.instances()).map((p) => p.restarts);

beforeAll(async () => {
  app = await createPm2App('identity', {
    config: '    instances: 2\n',
    files: {
      '.env': `FOO=${SECRET_OLD}\n`,
      'api/server.js': SERVER,
      // a log file left world-readable by an earlier opsctl
      '.opsctl/pm2/logs/api-out.log': '',
    },
  });
  chmodSync(join(app.dir, '.opsctl', 'pm2', 'logs', 'api-out.log'), 0o644);
  const res = await app.run(['deploy']);
  expect(res.exitCode, res.stderr).toBe(0);
}, 120_000);
afterAll(() => app?.cleanup());

describe('PM2 log files', () => {
  it('are 0600 (an existing one chmodded, pm2.log too) in a 0700 folder', () => {
    const logs = join(app.dir, '.opsctl', 'pm2', 'logs');
    expect(statSync(logs).mode & 0o777).toBe(0o700);
    for (const file of [join(logs, 'api-out.log'), join(logs, 'api-error.log'), join(logs, '..', 'pm2.log')]) {
      expect({ file, mode: (statSync(file).mode & 0o777).toString(8) }).toEqual({ file, mode: '600' });
    }
  });
});

describe('deploy is idempotent', () => {
  it('the same inputs from a shell with other variables: no reload, restart counts unchanged', async () => {
    const before = await restarts();
    const env = { UNRELATED: 'x', TERM: 'dumb', LANG: 'C' };
    const dry = await app.run(['deploy', '--dry-run', '--json'], env);
    expect(startStep(dry.stdout)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/already running/),
    });
    const res = await app.run(['deploy', '--json'], env);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(startStep(res.stdout)).toMatchObject({ status: 'skipped' });
    expect(await restarts()).toEqual(before);
  }, 120_000);

  it('a changed .env value reloads, naming the key and never the value', async () => {
    writeFileSync(join(app.dir, '.env'), `FOO=${SECRET_NEW}\n`);
    const dry = await app.run(['deploy', '--dry-run']);
    expect(dry.stderr + dry.stdout).toMatch(/would pm2 reload api \(env FOO changed\)/);
    const before = await restarts();
    const res = await app.run(['deploy', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(startStep(res.stdout)).toMatchObject({ status: 'done', reason: expect.stringMatching(/env FOO changed/) });
    expect((await restarts()).every((n, i) => n > before[i]!)).toBe(true);
    // a shell variable overriding .env is part of the identity; a new config key is named as added
    const shell = await app.run(['deploy', '--dry-run'], { FOO: SECRET_OLD, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(shell.stderr + shell.stdout).toMatch(/env FOO changed, env REDIS_URL added/);
    // a removed key: PM2 keeps what a reload does not name, so it reaches the process empty
    writeFileSync(join(app.dir, '.env'), 'OTHER=1\n');
    const removed = await app.run(['deploy', '--json']);
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(startStep(removed.stdout).reason).toMatch(/env FOO removed, env OTHER added/);
    for (let i = 0; i < 4; i++) {
      const body = await (await fetch(`http://127.0.0.1:${app.port}/`)).json();
      expect(body.foo ?? '').toBe('');
    }
    const kept = readFileSync(join(app.dir, '.opsctl', 'releases', 'api', 'live.json'), 'utf8');
    for (const text of [
      dry.stdout,
      dry.stderr,
      res.stdout,
      res.stderr,
      shell.stdout,
      shell.stderr,
      removed.stdout,
      kept,
    ]) {
      expect(text).not.toContain(SECRET_OLD);
      expect(text).not.toContain(SECRET_NEW);
    }
  }, 120_000);

  it('a count set with `opsctl scale` is kept by deploys until the config changes, and status says so', async () => {
    expect((await app.run(['scale', 'api', '3'])).exitCode).toBe(0);
    const status = await app.run(['status']);
    expect(status.stdout).toContain('api: 3 instances (config: 2, scaled by hand)');
    const json = JSON.parse((await app.run(['status', '--json'])).stdout).packages[0];
    expect(json).toMatchObject({ configInstances: 2, scaled: true });
    expect(json.instances).toHaveLength(3);
    const res = await app.run(['deploy', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(startStep(res.stdout).status).toBe('skipped');
    appendCode();
    expect((await app.run(['deploy'])).exitCode).toBe(0);
    expect(await app.instances()).toHaveLength(3);
    // stopped, then deployed: started afresh, with the kept count
    expect((await app.run(['stop'])).exitCode).toBe(0);
    expect((await app.run(['deploy'])).exitCode).toBe(0);
    expect((await app.instances()).filter((p) => p.state === 'online')).toHaveLength(3);
    // stopped, then started: `start` keeps it too
    expect((await app.run(['stop'])).exitCode).toBe(0);
    expect((await app.run(['start'])).exitCode).toBe(0);
    expect((await app.instances()).filter((p) => p.state === 'online')).toHaveLength(3);
    // the config's count changes: it wins again
    const config = join(app.dir, 'opsctl.config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace('instances: 2', 'instances: 1'));
    const changed = await app.run(['deploy', '--json']);
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect(startStep(changed.stdout).reason).toMatch(/instances 3 → 1/);
    expect(await app.instances()).toHaveLength(1);
    const after = JSON.parse((await app.run(['status', '--json'])).stdout).packages[0];
    expect(after).toMatchObject({ configInstances: 1 });
    expect(after.scaled).toBeUndefined();
  }, 180_000);

  it('a failed release is deleted at once and takes no kept slot: the good ones before it stay', async () => {
    const releases = () =>
      readdirSync(join(app.dir, '.opsctl', 'releases', 'api')).filter((n) => /^[0-9a-f]{12}$/.test(n));
    const deployNew = async (code?: string) => {
      const before = new Set(releases());
      if (code) writeFileSync(join(app.dir, 'api', 'server.js'), code);
      else appendCode();
      const res = await app.run(['deploy']);
      return { exitCode: res.exitCode, id: releases().find((id) => !before.has(id))! };
    };
    const a = await deployNew();
    const b = await deployNew();
    expect([a.exitCode, b.exitCode]).toEqual([0, 0]);
    const kept = releases().sort();
    const failed = await deployNew("console.error('broken on purpose'); process.exit(1);\n");
    expect(failed.exitCode).toBe(3);
    // deleted right away, not left for the next deploy to prune
    expect(failed.id).toBeUndefined();
    // no new folder (its start pruned the kept ones to three, the good ones before it among them)
    expect(releases().filter((id) => !kept.includes(id))).toEqual([]);
    expect(releases()).toEqual(expect.arrayContaining([a.id, b.id]));
    writeFileSync(join(app.dir, 'api', 'server.js'), SERVER);
    const d = await deployNew();
    expect(d.exitCode).toBe(0);
    expect(releases()).toEqual(expect.arrayContaining([a.id, b.id, d.id]));
  }, 180_000);
});

describe('packages that left the config', () => {
  it('status and doctor show one still running; `stop --orphans` stops and deletes it', async () => {
    const config = join(app.dir, 'opsctl.config.yaml');
    const original = readFileSync(config, 'utf8');
    const port = await freePort();
    mkdirSync(join(app.dir, 'old'), { recursive: true });
    writeFileSync(
      join(app.dir, 'old', 'package.json'),
      JSON.stringify({ name: 'old', scripts: { start: 'node server.js' } }),
    );
    writeFileSync(join(app.dir, 'old', 'server.js'), SERVER);
    writeFileSync(config, `${original}  old:\n    port: ${port}\n`);
    const deployed = await app.run(['deploy', 'old']);
    expect(deployed.exitCode, deployed.stderr).toBe(0);
    writeFileSync(config, original);

    const json = JSON.parse((await app.run(['status', '--json'])).stdout);
    const old = json.packages.find((p: { name: string }) => p.name === 'old');
    expect(old).toMatchObject({ orphan: true });
    const status = await app.run(['status']);
    // the instance by PM2's id, as doctor and logs name it
    expect(status.stdout).toMatch(new RegExp(`old\\s+${old.instances[0].id}\\s+\\d+\\s+not in the config`));
    expect(status.stderr).toContain("old runs under the app's PM2 but is not in the config; `opsctl stop --orphans`");
    const check = await app.check('processes');
    expect(check).toMatchObject({ status: 'warn', message: "old runs under the app's PM2 but is not in the config" });
    expect(check.hint).toContain('opsctl stop --orphans');

    const stopped = await app.run(['stop', '--orphans', '--json']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout).packages).toEqual([
      { name: 'old', action: 'stopped and deleted (not in the config)', instances: 1 },
    ]);
    expect((await app.instances()).map((p) => p.name)).not.toContain('old');
    expect((await app.check('processes')).status).toBe('pass');
    expect((await app.instances()).some((p) => p.name === 'api' && p.state === 'online')).toBe(true);
  }, 120_000);
});

function appendCode(): void {
  const file = join(app.dir, 'api', 'server.js');
  writeFileSync(file, `${readFileSync(file, 'utf8')}// changed ${Date.now()}\n`);
}
