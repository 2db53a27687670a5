import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRunner } from '../../src/process/runner.js';
import { alertPayload } from '../../src/watch/payload.js';
import { deliver } from '../../src/watch/sinks.js';
import { opsctl } from '../helpers/cli.js';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';
import { freePort } from '../helpers/tcp.js';
import { waitFor } from '../helpers/wait.js';
import { startWatch, type WatchRun } from '../helpers/watch.js';

/** The on-call engineer's edge cases of `opsctl watch` (README, "`opsctl watch`"). */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let app: Pm2App;
let watch: WatchRun | undefined;
const leftovers: number[] = [];

beforeAll(async () => {
  app = await createPm2App('watch-edges', {
    files: { 'api/server.js': "require('node:http').createServer((q, r) => r.end('ok')).listen(process.env.PORT);\n" },
  });
  const res = await app.run(['deploy']);
  expect(res.exitCode, res.stderr).toBe(0);
}, 180_000);
afterEach(async () => {
  await watch?.stop('SIGKILL');
  watch = undefined;
});
afterAll(() => {
  // an app instance its killed daemon left behind, if any
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  app?.cleanup();
});

describe('watch and the app’s PM2 daemon', () => {
  it('the PM2 daemon killed under a running app: one fail for processes; the app deployed again: one recover', async () => {
    watch = startWatch(app.dir, ['--only', 'processes', '--interval', '500ms', '--json', '--announce']);
    await watch.waitForEvents('the started event', (e) => e.some((x) => x.event === 'started'));
    const [instance] = await app.instances();
    leftovers.push(instance!.pid);

    const home = join(app.dir, '.opsctl', 'pm2');
    process.kill(Number(readFileSync(join(home, 'pm2.pid'), 'utf8')), 'SIGKILL');
    await watch.waitForEvents('a fail event for processes', (e) => e.some((x) => x.event === 'fail'));
    const fail = watch.events().find((x) => x.event === 'fail')!;
    expect(fail).toMatchObject({ check: 'processes', status: 'fail' });
    expect(fail.message).toMatch(/^the PM2 daemon that ran api#\d+ is gone .*: the app no longer runs under PM2$/);
    expect(fail.hint).toMatch(/opsctl deploy/);
    await sleep(2_000); // several rounds with the daemon gone: nothing repeated

    const res = await app.run(['deploy']);
    expect(res.exitCode, res.stderr).toBe(0);
    await watch.waitForEvents('a recover event', (e) => e.some((x) => x.event === 'recover'));
    await sleep(1_500);
    expect(watch.events().map((x) => x.event)).toEqual(['started', 'fail', 'recover']);
    const { code, ms } = await watch.stop('SIGTERM');
    expect(code).toBe(143);
    expect(ms).toBeLessThan(1_000);
  }, 120_000);
});

describe('watch stderr at 3 a.m.', () => {
  it('every doctor check of an app (more than ten at once): no "memory leak detected" warning on stderr', async () => {
    watch = startWatch(app.dir, ['--interval', '500ms']);
    await waitFor('a few rounds', () => /Watching \d+ checks/.test(watch!.stderr()), 30_000);
    expect(Number(/Watching (\d+) checks/.exec(watch.stderr())![1])).toBeGreaterThan(10);
    await sleep(3_000);
    const { code } = await watch.stop('SIGINT');
    expect(code).toBe(130);
    expect(watch.stderr()).not.toMatch(/MaxListenersExceeded|memory leak/);
  }, 60_000);
});

describe('watch stopping', () => {
  it('SIGTERM while a command sink that ignores SIGTERM runs: watch still ends within a second, exit 143, the sink killed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsctl-watch-stop-'));
    const pidFile = join(dir, 'sink.pid');
    let sinkPid: number | undefined;
    try {
      // a pager script that hangs and shrugs off SIGTERM (a shell script waiting on its curl does the same)
      writeFileSync(
        join(dir, 'stubborn.js'),
        `process.on('SIGTERM', () => {}); require('node:fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);\n`,
      );
      writeFileSync(
        join(dir, 'opsctl.config.yaml'),
        `packages: {}\nalerts:\n  - command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(dir, 'stubborn.js'))}]\n`,
      );
      // a Redis nobody listens on: the first round fails, and the alert goes to the sink
      watch = startWatch(dir, ['--only', 'redis', '--interval', '1s'], { REDIS_URL: 'redis://127.0.0.1:1' });
      await waitFor('the sink to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8') !== '', 30_000);
      sinkPid = Number(readFileSync(pidFile, 'utf8'));
      const { code, ms } = await watch.stop('SIGTERM');
      expect(code, watch.stderr()).toBe(143);
      expect(ms, watch.stderr()).toBeLessThan(1_000);
      expect(watch.stderr()).toMatch(/watch stopped \(Terminated/);
      expect(alive(sinkPid)).toBe(false);
    } finally {
      if (sinkPid && alive(sinkPid)) process.kill(sinkPid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('watch and secrets', () => {
  it('a ${VAR} in an alert command’s arguments (a routing key under a plain name): never on stderr, even when the command prints it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsctl-watch-vars-'));
    const routing = 'r0utingKey-Zq71xB';
    try {
      // a pager that rejects the key once, quoting its command line (as curl and friends do), then accepts it
      writeFileSync(
        join(dir, 'pager.js'),
        `const fs = require('node:fs'); const m = ${JSON.stringify(join(dir, 'once'))};
         if (!fs.existsSync(m)) { fs.writeFileSync(m, ''); console.error('rejected: ' + process.argv.slice(2).join(' ')); process.exit(2); }
         process.stdin.resume();\n`,
      );
      writeFileSync(
        join(dir, 'opsctl.config.yaml'),
        `packages: {}\nalerts:\n  - command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(join(dir, 'pager.js'))}, --routing-key, "\${PAGER_ROUTING}"]\n`,
      );
      // no packages: the config check fails, one fail event for the pager
      const res = await opsctl(['-C', dir, 'watch', '--once', '--json', '--only', 'config'], {
        env: { PAGER_ROUTING: routing, PM2_HOME: '', DATABASE_URL: '', REDIS_URL: '' },
      });
      expect(res.exitCode, res.stderr).toBe(1);
      expect(res.stderr).toMatch(/attempt 1: exit code 2: rejected: --routing-key \*\*\*\*/);
      expect(res.stderr).toMatch(/attempt 2: delivered/);
      expect(`${res.stdout}\n${res.stderr}`).not.toContain(routing);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe.skipIf(!hasRedisServer())('cache stats when Redis does not answer', () => {
  let redis: TestRedis | undefined;
  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  it('nothing listening, or a wrong password: exit 4 saying why (not "Connection is closed"), no password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsctl-cache-down-'));
    const secret = 'cache-pw-Hv83kQ';
    try {
      writeFileSync(join(dir, 'opsctl.config.yaml'), 'packages: {}\n');
      const port = await freePort();
      const down = await opsctl(['-C', dir, 'cache', 'stats'], {
        env: { REDIS_URL: `redis://:${secret}@127.0.0.1:${port}`, PM2_HOME: '', DATABASE_URL: '' },
      });
      expect(down.exitCode, down.stderr).toBe(4);
      expect(down.stderr).toMatch(new RegExp(`✖ .*ECONNREFUSED 127\\.0\\.0\\.1:${port}`));
      expect(down.stderr).not.toMatch(/Connection is closed/);

      redis = await startRedis({ password: 'the-right-one-9x' });
      const wrong = await opsctl(['-C', dir, 'cache', 'stats', '--json'], {
        env: { REDIS_URL: `redis://:${secret}@127.0.0.1:${redis.port}`, PM2_HOME: '', DATABASE_URL: '' },
      });
      expect(wrong.exitCode, wrong.stderr).toBe(4);
      const doc = JSON.parse(wrong.stdout);
      expect(doc.error.message).toMatch(/WRONGPASS|invalid password/);
      expect(`${down.stdout}${down.stderr}${wrong.stdout}${wrong.stderr}`).not.toContain(secret);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('a webhook that redirects', () => {
  it('301/302: not "delivered" (the POST would become an empty GET), not retried; 307/308: the alert follows to the new URL', async () => {
    const requests: string[] = [];
    let status = 302;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push(`${req.method} ${req.url} ${body ? JSON.parse(body).event : '-'}`);
        if (req.url === '/hook') res.writeHead(status, { location: '/moved' }).end();
        else res.end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
    const payload = alertPayload(
      { event: 'fail', check: 'redis', status: 'fail', message: 'down', at: '2026-01-01T03:00:00.000Z' },
      'shop',
      'web-1',
    );
    const opts = { runner: createRunner(), signal: new AbortController().signal, backoffMs: 20 };
    try {
      for (const code of [301, 302]) {
        status = code;
        requests.length = 0;
        const log: string[] = [];
        expect(await deliver({ webhook: url }, payload, { ...opts, log: (l) => log.push(l) })).toBe(false);
        expect(requests).toEqual(['POST /hook fail']);
        expect(log).toEqual([expect.stringMatching(new RegExp(`attempt 1: HTTP ${code} .*redirect`))]);
      }
      for (const code of [307, 308]) {
        status = code;
        requests.length = 0;
        expect(await deliver({ webhook: url }, payload, { ...opts, log: () => undefined })).toBe(true);
        expect(requests).toEqual(['POST /hook fail', 'POST /moved fail']);
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('watch bad input', () => {
  it('a webhook URL with a user and password (fetch refuses it): a usage error at start, not an alert lost after a minute of retries', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsctl-watch-cred-'));
    try {
      writeFileSync(join(dir, 'opsctl.config.yaml'), 'packages: {}\n');
      const res = await opsctl(
        [
          '-C',
          dir,
          'watch',
          '--once',
          '--json',
          '--only',
          'config',
          '--webhook',
          'https://ops:hookPw-77Zx@127.0.0.1:9/hook',
        ],
        { env: { PM2_HOME: '', DATABASE_URL: '', REDIS_URL: '' } },
      );
      expect(res.exitCode, res.stderr).toBe(2);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.message).toMatch(/user and password/);
      expect(`${res.stdout}${res.stderr}`).not.toContain('hookPw-77Zx');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
