import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { hasScript } from '../helpers/pty.js';
import { type PtySession, startPty } from '../helpers/pty-session.js';

/**
 * `start`/`restart` from a shell that lacks a variable the config reads (README, "`opsctl status`, `start|stop|
 * restart`", "A changed environment"): named by key before anything changes, never by value; blocked without --yes.
 */
let app: Pm2App;
const REDIS_SECRET = `rpw-${process.pid}-Kq3v`;
const REDIS_URL = `redis://:${REDIS_SECRET}@127.0.0.1:6399`;
const FEATURE = `feature-${process.pid}-Zt8w`;
const FULL = { REDIS_URL, FEATURE };
const SERVER =
  "require('node:http').createServer((q, s) => s.end(JSON.stringify({ redis: process.env.REDIS_URL ?? null })))" +
  '.listen(process.env.PORT);\n';

type EnvChange = { name: string; change: string; unsetVariables?: string[] };
const body = async () => (await fetch(`http://127.0.0.1:${app.port}/`)).json() as Promise<{ redis: string | null }>;
const restarts = async () => (await app.instances()).map((p) => p.restarts);
const noValues = (text: string) => {
  expect(text).not.toContain(REDIS_SECRET);
  expect(text).not.toContain(FEATURE);
};

beforeAll(async () => {
  app = await createPm2App('start-env', {
    config: '    env:\n      FEATURE: ${FEATURE}\nredis:\n  url: ${REDIS_URL}\n',
    files: { 'api/server.js': SERVER },
  });
  const res = await app.run(['deploy'], FULL);
  expect(res.exitCode, res.stderr).toBe(0);
}, 180_000);
let pty: PtySession | undefined;
afterEach(() => pty?.kill());
afterAll(() => app?.cleanup());

describe('restart from a shell without a variable the config reads', () => {
  it('without --yes and no terminal: exit 2 naming the keys and the variables, nothing restarted', async () => {
    const before = await restarts();
    const res = await app.run(['restart']);
    expect(res.exitCode, res.stderr).toBe(2);
    expect(res.stderr).toContain(
      '⚠ api: env REDIS_URL removed since it last ran (the config reads ${REDIS_URL}, not set in this shell or .env)',
    );
    expect(res.stderr).toContain('⚠ api: env FEATURE removed since it last ran (the config reads ${FEATURE}');
    expect(res.stderr).toMatch(/✖ .*REDIS_URL/);
    expect(res.stderr).toMatch(/→ .*(export|\.env).*--yes/is);
    expect(res.stdout).toBe('');
    noValues(res.stdout + res.stderr);
    expect(await restarts()).toEqual(before);
    expect((await body()).redis).toBe(REDIS_URL);
  }, 120_000);

  it('--json: one document with the error and each package’s envChanges, by key only', async () => {
    const res = await app.run(['restart', '--json']);
    expect(res.exitCode, res.stderr).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'restart', ok: false, exitCode: 2, error: { code: 'ENV_UNSET' } });
    const changes: EnvChange[] = doc.packages.find((p: { name: string }) => p.name === 'api').envChanges;
    expect(changes).toEqual([
      { name: 'FEATURE', change: 'removed', unsetVariables: ['FEATURE'] },
      { name: 'REDIS_URL', change: 'removed', unsetVariables: ['REDIS_URL'] },
    ]);
    noValues(res.stdout + res.stderr);
  }, 120_000);

  it.skipIf(!hasScript)(
    'on a terminal it asks first; no (exit 130) changes nothing',
    async () => {
      const before = await restarts();
      pty = startPty(app.dir, ['restart'], { FEATURE, PM2_HOME: undefined, REDIS_URL: undefined, NO_COLOR: '1' });
      await pty.waitFor(/restart api without REDIS_URL \(REDIS_URL not set here\)\? \(y\/N\)/, 60_000);
      expect(pty.output()).toContain('⚠ api: env REDIS_URL removed since it last ran');
      pty.type('n\r');
      expect(await pty.exited()).toBe(130);
      expect(pty.output()).toMatch(/✖ restart cancelled; nothing was changed/);
      noValues(pty.output());
      expect(await restarts()).toEqual(before);
      expect((await body()).redis).toBe(REDIS_URL);
    },
    120_000,
  );

  it('start of a running package changes nothing, so it is not blocked', async () => {
    const res = await app.run(['start', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).packages[0]).toMatchObject({
      name: 'api',
      action: 'already running',
      envChanges: [],
    });
  }, 120_000);

  it('--yes restarts without it, still saying so; --json carries envChanges', async () => {
    const res = await app.run(['restart', '--yes']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toContain('⚠ api: env REDIS_URL removed since it last ran (the config reads ${REDIS_URL}');
    // what --yes confirmed, as the question would have named it
    expect(res.stderr).toMatch(
      /✔ --yes: restart api without [A-Z_, ]*REDIS_URL[A-Z_, ]* \([A-Z_, ]*REDIS_URL[A-Z_, ]* not set here\)\./,
    );
    noValues(res.stdout + res.stderr);
    // PM2 keeps a key a reload does not name: it reaches the process empty (README, "Deploy")
    expect((await body()).redis ?? '').toBe('');
    // recorded: the next restart from the same shell has nothing to say
    const again = await app.run(['restart', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).packages[0].envChanges).toEqual([]);
  }, 120_000);
});

describe('start after stop', () => {
  it('a variable set again is named as added and does not block', async () => {
    expect((await app.run(['stop'])).exitCode).toBe(0);
    const res = await app.run(['start', '--json'], FULL);
    expect(res.exitCode, res.stderr).toBe(0);
    const pkg = JSON.parse(res.stdout).packages[0];
    expect(pkg).toMatchObject({ name: 'api', action: 'started' });
    expect(pkg.envChanges).toEqual([
      { name: 'FEATURE', change: 'added' },
      { name: 'REDIS_URL', change: 'added' },
    ]);
    noValues(res.stdout + res.stderr);
    expect((await body()).redis).toBe(REDIS_URL);
  }, 120_000);

  it('start of a stopped package from a shell without it is blocked the same way (exit 2)', async () => {
    expect((await app.run(['stop'])).exitCode).toBe(0);
    const res = await app.run(['start'], { FEATURE });
    expect(res.exitCode, res.stderr).toBe(2);
    expect(res.stderr).toContain('⚠ api: env REDIS_URL removed since it last ran');
    expect(res.stderr).not.toContain('env FEATURE');
    noValues(res.stdout + res.stderr);
    expect((await app.instances()).every((p) => p.state !== 'online')).toBe(true);
    const ok = await app.run(['start'], FULL);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('⚠ api: env');
  }, 120_000);
});

describe("doctor's redis check", () => {
  it('warns, naming ${REDIS_URL}, when the config reads it and it is not set (no skip)', async () => {
    const row = await app.check('redis');
    expect(row.status).toBe('warn');
    expect(row.message).toContain('${REDIS_URL}');
    expect(row.message).toMatch(/not set/);
    expect(row.hint).toMatch(/\.env/);
  }, 60_000);
});
