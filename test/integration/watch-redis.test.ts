import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { hasRedisServer, NO_REDIS_REASON, startRedis, type TestRedis } from '../helpers/redis.js';
import { freePort, startHungServer } from '../helpers/tcp.js';
import { type Receiver, startReceiver, startWatch, type WatchRun } from '../helpers/watch.js';

const PASSWORD = 'watch-pw-7Hq2zX9k';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let dir: string;
let redis: TestRedis | undefined;
let receiver: Receiver | undefined;
let watch: WatchRun | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-watch-redis-'));
  // the command sink: appends what it gets on stdin to a file, one JSON document per line
  writeFileSync(
    join(dir, 'sink.js'),
    "let s = ''; process.stdin.on('data', (c) => (s += c)); process.stdin.on('end', () => require('node:fs').appendFileSync(process.argv[2], `${s}\\n`));\n",
  );
});
afterEach(async () => {
  await watch?.stop('SIGKILL');
  watch = undefined;
  await redis?.stop();
  redis = undefined;
  await receiver?.close();
  receiver = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeConfig(extra = ''): void {
  writeFileSync(join(dir, 'opsctl.config.yaml'), `packages: {}\n${extra}`);
}

describe.skipIf(!hasRedisServer())('watch against a Redis of its own', () => {
  it('stopped, then started again: exactly one fail then one recover, delivered to a webhook (500 first) and a command, no password anywhere', async () => {
    redis = await startRedis({ password: PASSWORD });
    receiver = await startReceiver([500]);
    const received = join(dir, 'received.jsonl');
    rmSync(received, { force: true });
    writeConfig(`alerts:\n  - command: ["${process.execPath}", "${join(dir, 'sink.js')}", "${received}"]\n`);
    watch = startWatch(dir, ['--only', 'redis', '--interval', '300ms', '--json', '--webhook', receiver.url], {
      REDIS_URL: redis.url,
    });
    await sleep(2_000); // several green rounds: a green start sends nothing
    expect(watch.events()).toEqual([]);

    const port = redis.port;
    await redis.stop();
    redis = undefined;
    await watch.waitForEvents('a fail event', (e) => e.some((x) => x.event === 'fail'));
    await sleep(2_000); // several failing rounds: nothing repeated
    redis = await startRedis({ password: PASSWORD, port });
    await watch.waitForEvents('a recover event', (e) => e.some((x) => x.event === 'recover'));
    await sleep(1_500);

    const events = watch.events();
    expect(events.map((e) => e.event)).toEqual(['fail', 'recover']);
    expect(events[0]).toMatchObject({
      check: 'redis',
      status: 'fail',
      app: expect.any(String),
      host: expect.any(String),
    });
    expect(events[0]!.message).toMatch(/connection refused/);
    expect(events[0]!.text).toMatch(/FAIL redis: .*connection refused/);
    expect(events[1]).toMatchObject({ check: 'redis', status: 'pass' });

    // the webhook answered 500 to the first delivery: it was retried and both alerts arrived, in order
    await expect.poll(() => receiver!.bodies.map((b) => b.event), { timeout: 15_000 }).toEqual(['fail', 'recover']);
    expect(receiver.answers).toEqual([500, 200, 200]);
    expect(watch.stderr()).toMatch(/webhook http:\/\/127\.0\.0\.1:\d+: fail redis, attempt 1: HTTP 500/);
    expect(watch.stderr()).toMatch(/fail redis, attempt 2: delivered/);

    await expect.poll(() => readFileSync(received, 'utf8').trim().split('\n').length, { timeout: 15_000 }).toBe(2);
    const commandPayloads = readFileSync(received, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(commandPayloads.map((p) => p.event)).toEqual(['fail', 'recover']);
    expect(commandPayloads[0]).toMatchObject({ check: 'redis', status: 'fail' });
    expect(Object.keys(commandPayloads[0]!).sort()).toEqual(
      ['app', 'at', 'check', 'event', 'hint', 'host', 'message', 'status', 'text'].sort(),
    );

    // redaction: the URL's password is in no payload, line or log
    const everything = [
      watch.stdout(),
      watch.stderr(),
      JSON.stringify(receiver.bodies),
      readFileSync(received, 'utf8'),
    ].join('\n');
    expect(everything).toContain('127.0.0.1');
    expect(everything).not.toContain(PASSWORD);

    const { code, ms } = await watch.stop('SIGTERM');
    expect(code).toBe(143);
    expect(ms).toBeLessThan(1_000);
  }, 90_000);

  it('a password-bearing REDIS_URL that Redis rejects: the fail reaches the webhook and the command, no password anywhere', async () => {
    receiver = await startReceiver();
    const received = join(dir, 'received-masked.jsonl');
    rmSync(received, { force: true });
    writeConfig(`alerts:\n  - command: ["${process.execPath}", "${join(dir, 'sink.js')}", "${received}"]\n`);
    // a wrong password: Redis rejects it, and the message names the server
    redis = await startRedis({ password: PASSWORD });
    const wrong = 'wrong-pw-Zr81mQ4t';
    const url = redis.url.replace(encodeURIComponent(PASSWORD), wrong);
    const res = await opsctl(['-C', dir, 'watch', '--once', '--json', '--only', 'redis', '--webhook', receiver.url], {
      env: { REDIS_URL: url, PM2_HOME: '', DATABASE_URL: '' },
    });
    expect(res.exitCode, res.stderr).toBe(1);
    const doc = JSON.parse(res.stdout);
    expect(doc.events).toHaveLength(1);
    expect(doc.events[0]).toMatchObject({ event: 'fail', check: 'redis' });
    expect(receiver.bodies).toHaveLength(1);
    const everything = [res.stdout, res.stderr, JSON.stringify(receiver.bodies), readFileSync(received, 'utf8')].join(
      '\n',
    );
    expect(everything).toMatch(/rejected the password/);
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(PASSWORD);
  }, 60_000);

  it('--once: exit 0 and no event when every check passes; exit 1 and one fail event when Redis is down; one JSON document', async () => {
    writeConfig();
    redis = await startRedis();
    const up = await opsctl(['-C', dir, 'watch', '--once', '--json', '--only', 'redis'], {
      env: { REDIS_URL: redis.url, PM2_HOME: '', DATABASE_URL: '' },
    });
    expect(up.exitCode, up.stderr).toBe(0);
    const upDoc = JSON.parse(up.stdout);
    expect(upDoc).toMatchObject({ command: 'watch', ok: true, exitCode: 0, events: [] });
    expect(upDoc.checks).toEqual([expect.objectContaining({ id: 'redis', status: 'pass' })]);

    const url = redis.url;
    await redis.stop();
    redis = undefined;
    const down = await opsctl(['-C', dir, 'watch', '--once', '--json', '--only', 'redis'], {
      env: { REDIS_URL: url, PM2_HOME: '', DATABASE_URL: '' },
    });
    expect(down.exitCode, down.stderr).toBe(1);
    const downDoc = JSON.parse(down.stdout);
    expect(downDoc).toMatchObject({ command: 'watch', ok: false, exitCode: 1 });
    expect(downDoc.events).toEqual([
      expect.objectContaining({
        event: 'fail',
        check: 'redis',
        status: 'fail',
        message: expect.stringMatching(/refused/),
      }),
    ]);
  }, 60_000);

  it('--metrics: Prometheus text on loopback with check status, latency and the Redis hit ratio over the interval', async () => {
    writeConfig();
    redis = await startRedis();
    const port = await freePort();
    watch = startWatch(dir, ['--only', 'redis', '--interval', '300ms', '--metrics', String(port)], {
      REDIS_URL: redis.url,
    });
    const url = `http://127.0.0.1:${port}/metrics`;
    await expect
      .poll(
        () =>
          scrape(url)
            .then((s) => sample(s.families, 'opsctl_check_up', { check: 'redis' }))
            .catch(() => undefined),
        { timeout: 20_000 },
      )
      .toBe(1);
    // 150 hits and 50 misses between two rounds: 75%
    const client = new Redis(redis.url);
    try {
      await client.set('k', 'v');
      const p = client.pipeline();
      for (let i = 0; i < 150; i++) p.get('k');
      for (let i = 0; i < 50; i++) p.get(`missing:${i}`);
      await p.exec();
    } finally {
      client.disconnect();
    }
    await expect
      .poll(
        async () =>
          sample((await scrape(url)).families, 'opsctl_redis_hit_ratio', { target: `127.0.0.1:${redis!.port}` }),
        { timeout: 20_000 },
      )
      .toBe(0.75);
    const { contentType, families } = await scrape(url);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(families, 'opsctl_check_duration_seconds', { check: 'redis' })).toBeGreaterThan(0);
    expect(families.find((f) => f.name === 'opsctl_check_up')?.type).toBe('GAUGE');
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);

    await redis.stop();
    redis = undefined;
    await expect
      .poll(async () => sample((await scrape(url)).families, 'opsctl_check_up', { check: 'redis' }), {
        timeout: 20_000,
      })
      .toBe(0);
    const { code } = await watch.stop('SIGTERM');
    expect(code).toBe(143);
    await expect(fetch(url)).rejects.toThrow(); // the server closed with watch
  }, 90_000);

  it('SIGTERM while a round waits on a hung Redis (3 s check timeout): watch still ends within a second', async () => {
    writeConfig();
    const hung = await startHungServer();
    try {
      watch = startWatch(dir, ['--only', 'redis', '--interval', '200ms', '--timeout', '3000'], {
        REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:${hung.port}`,
      });
      await watch.waitForEvents('watch to start', () => /Watching 1 checks/.test(watch!.stderr()));
      await sleep(800); // the first round is waiting on the hung server now
      const { code, ms } = await watch.stop('SIGTERM');
      expect(code).toBe(143);
      expect(ms).toBeLessThan(1_000);
      expect(watch.stderr()).toMatch(/watch stopped \(Terminated \(SIGTERM\)\.\)/);
      expect(watch.stdout()).toBe(''); // no event: the round was cut short, not failed
    } finally {
      await hung.close();
    }
  }, 60_000);

  it('--metrics on a port already taken: exit 3 at start, saying so', async () => {
    writeConfig();
    const taken = await startHungServer();
    try {
      const res = await opsctl(['-C', dir, 'watch', '--only', 'config', '--metrics', String(taken.port)], {
        env: { PM2_HOME: '' },
        timeoutMs: 30_000,
      });
      expect(res.exitCode, res.stderr).toBe(3);
      expect(res.stderr).toMatch(new RegExp(`✖ Cannot serve metrics on 127\\.0\\.0\\.1:${taken.port}: EADDRINUSE`));
      expect(res.stderr).toMatch(/→ Pick a free port for --metrics/);
    } finally {
      await taken.close();
    }
  }, 60_000);

  it('an alert sink in the config that is neither an http(s) webhook nor a command: config error (exit 2)', async () => {
    writeConfig('alerts:\n  - webhook: ftp://example.com/hook\n');
    const res = await opsctl(['-C', dir, 'watch', '--once', '--json'], { env: { PM2_HOME: '' } });
    expect(res.exitCode, res.stderr).toBe(2);
    expect(JSON.parse(res.stdout).error.message).toMatch(/alerts/);
  }, 60_000);

  it('bad input: an unknown check, a bad interval, a bad webhook URL are usage errors (exit 2), one JSON document', async () => {
    writeConfig();
    for (const args of [
      ['--only', 'nope'],
      ['--interval', 'soon'],
      ['--webhook', 'ftp://example.com/x'],
      ['--metrics', '70000'],
    ]) {
      const res = await opsctl(['-C', dir, 'watch', '--once', '--json', ...args], { env: { PM2_HOME: '' } });
      expect(res.exitCode, `${args.join(' ')}: ${res.stderr}`).toBe(2);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.code).toBe('USAGE');
      expect(res.stderr).toMatch(/✖ /);
    }
  }, 60_000);
});

if (!hasRedisServer()) console.warn(NO_REDIS_REASON);
