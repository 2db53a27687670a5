import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisCheck } from '../../src/checks/redis.js';
import { runCheck } from '../../src/checks/run-check.js';
import { loadConfig } from '../../src/config/load.js';
import { createRunner } from '../../src/process/runner.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { hasRedisServer, NO_REDIS_REASON, startRedis, type TestRedis } from '../helpers/redis.js';
import { freePort, type HungServer, startHungServer } from '../helpers/tcp.js';

const PASSWORD = `redis-pw-${process.pid}-x7`;
const WRONG = `wrong-redis-pw-${process.pid}`;
const redisAvailable = hasRedisServer();
if (!redisAvailable) console.warn(NO_REDIS_REASON);

let app: string;
let hung: HungServer;
beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-redischeck-'));
  chmodSync(app, 0o755);
  hung = await startHungServer();
});
afterAll(async () => {
  await hung?.close();
  rmSync(app, { recursive: true, force: true });
});

async function check(url: string | undefined, timeoutMs = 3000) {
  const config = loadConfig({ cwd: app, processEnv: { REDIS_URL: url } });
  return runCheck(redisCheck, { config, runner: createRunner(), timeoutMs, now: () => new Date() });
}

const doctor = (url: string, extra: string[] = []) =>
  opsctl(['-C', app, 'doctor', '--only', 'redis', '--json', ...extra], {
    env: { REDIS_URL: url, DATABASE_URL: undefined },
  });

describe('redis check without a server', () => {
  it('skips, saying how to configure Redis, when no URL is set', async () => {
    const report = await check(undefined);
    expect(report.status).toBe('skip');
    expect(report.message).toMatch(/redis\.url.*REDIS_URL/);
  });

  it('down (nothing on the port): not running', async () => {
    const port = await freePort();
    const report = await check(`redis://:${PASSWORD}@127.0.0.1:${port}`);
    expect(report.status).toBe('fail');
    expect(report.message).toBe(`Redis is not running at 127.0.0.1:${port} (connection refused)`);
    expect(JSON.stringify(report)).not.toContain(PASSWORD);
  });

  it('hung server: fails within the timeout and closes its socket', async () => {
    const started = performance.now();
    const report = await check(`redis://:${PASSWORD}@127.0.0.1:${hung.port}`, 1000);
    expect(report.status).toBe('fail');
    expect(report.message).toMatch(/did not answer within \d+ ms/);
    expect(performance.now() - started).toBeLessThan(2000);
    // the client destroyed its socket: nothing is left half-open on the server side
    await vi.waitFor(() => expect(hung.openSockets()).toBe(0), { timeout: 1000 });
  });

  it.each(['Xk9@LeakPart1/Q2', 'Xk9@LeakPart2#Q2', 'Xk9?LeakPart3@Q2'])(
    'a password %j with an unencoded / # or ? is a URL problem, never a host named after part of it',
    async (password) => {
      const report = await check(`redis://:${password}@127.0.0.1:6379`);
      expect(report.status).toBe('fail');
      expect(report.message).toMatch(/percent-encode|contains/i);
      for (const piece of password.split(/[@/#?]/)) expect(JSON.stringify(report)).not.toContain(piece);
    },
  );

  it('DNS failure', async () => {
    const report = await check('redis://no-such-host.invalid:6379');
    expect(report.message).toMatch(/cannot resolve host "no-such-host.invalid"/);
  });

  it('hung server through the CLI: exit 1 in bounded time, no password, no stack', async () => {
    const started = performance.now();
    const res = await doctor(`redis://:${PASSWORD}@127.0.0.1:${hung.port}`, ['--timeout', '1000']);
    expect(res.exitCode).toBe(1);
    expect(performance.now() - started).toBeLessThan(6000);
    expect(res.stdout + res.stderr).not.toContain(PASSWORD);
    expect(hasStackTrace(res.stderr)).toBe(false);
  });
});

describe.skipIf(!redisAvailable)('redis check against a real redis-server', () => {
  let open: TestRedis;
  let locked: TestRedis;
  beforeAll(async () => {
    [open, locked] = await Promise.all([startRedis(), startRedis({ password: PASSWORD })]);
  });
  afterAll(async () => {
    await Promise.all([open?.stop(), locked?.stop()]);
  });

  it('green without a password: PONG and the version', async () => {
    const report = await check(open.url);
    expect(report.status).toBe('pass');
    expect(report.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${open.port}: PONG \\(Redis \\d+\\.`));
  });

  it('green with requirepass and the right password', async () => {
    const report = await check(locked.url);
    expect(report.status).toBe('pass');
    expect(JSON.stringify(report)).not.toContain(PASSWORD);
  });

  it('requirepass but no password given: NOAUTH has its own message and hint', async () => {
    const report = await check(`redis://127.0.0.1:${locked.port}`);
    expect(report.status).toBe('fail');
    expect(report.message).toBe(`127.0.0.1:${locked.port} requires a password and none was given`);
    expect(report.hint).toMatch(/:<password>@/);
  });

  it('wrong password: WRONGPASS told apart from NOAUTH', async () => {
    const report = await check(`redis://:${WRONG}@127.0.0.1:${locked.port}`);
    expect(report.status).toBe('fail');
    expect(report.message).toMatch(/rejected the password/);
    expect(report.hint).toMatch(/requirepass or ACL/);
    expect(JSON.stringify(report)).not.toContain(WRONG);
  });

  it('through the CLI: green exits 0, wrong password exits 1, no password in any output', async () => {
    const green = await doctor(locked.url);
    expect(green.exitCode).toBe(0);
    expect(JSON.parse(green.stdout).checks).toEqual([expect.objectContaining({ id: 'redis', status: 'pass' })]);

    const noauth = await doctor(`redis://127.0.0.1:${locked.port}`);
    expect(noauth.exitCode).toBe(1);
    expect(JSON.parse(noauth.stdout).checks[0].message).toMatch(/requires a password/);

    const wrong = await doctor(`redis://:${WRONG}@127.0.0.1:${locked.port}`);
    expect(wrong.exitCode).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, exitCode: 1 });
    for (const res of [green, noauth, wrong]) {
      for (const secret of [PASSWORD, WRONG]) expect(res.stdout + res.stderr).not.toContain(secret);
    }
  });
});
