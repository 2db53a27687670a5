import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisCheck } from '../../src/checks/redis.js';
import { runCheck } from '../../src/checks/run-check.js';
import { loadConfig } from '../../src/config/load.js';
import { createRunner } from '../../src/process/runner.js';
import { opsctl } from '../helpers/cli.js';
import { hasRedisServer, startRedis, type TestRedis } from '../helpers/redis.js';

let dir: string;
let redis: TestRedis | undefined;
let client: Redis | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-cache-'));
  writeFileSync(join(dir, 'opsctl.config.yaml'), 'packages: {}\n');
});
afterEach(async () => {
  client?.disconnect();
  client = undefined;
  await redis?.stop();
  redis = undefined;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(cache?: string[], password?: string): Promise<{ redis: TestRedis; client: Redis }> {
  redis = await startRedis({ cache, password });
  client = new Redis(redis.url, { lazyConnect: true });
  await client.connect();
  return { redis, client };
}

function check(url: string, memo?: Map<string, unknown>) {
  const config = loadConfig({ cwd: dir, processEnv: { REDIS_URL: url } });
  return runCheck(redisCheck, { config, runner: createRunner(), timeoutMs: 3000, now: () => new Date(), memo });
}

describe.skipIf(!hasRedisServer())('the redis check reviews the cache', () => {
  it("Redis' defaults (no maxmemory, noeviction): warn, naming both", async () => {
    const { redis } = await start([]);
    const report = await check(redis.url);
    expect(report.status).toBe('warn');
    expect(report.message).toMatch(/PONG.*cache: no maxmemory/);
    expect(report.details).toEqual([
      expect.stringMatching(/^no maxmemory: as a cache it grows/),
      'maxmemory-policy noeviction: writes fail once memory is full',
    ]);
  });

  it('a well-set cache passes; across rounds, evictions and a hit rate under 80% warn', async () => {
    const { redis, client } = await start(['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru']);
    const memo = new Map<string, unknown>();
    expect((await check(redis.url, memo)).status).toBe('pass');
    // 300 misses and no hit: a 0% hit rate over the interval
    const misses = client.pipeline();
    for (let i = 0; i < 300; i++) misses.get(`missing:${i}`);
    await misses.exec();
    const cold = await check(redis.url, memo);
    expect(cold.status).toBe('warn');
    expect(cold.details).toEqual(['keyspace hit rate 0% since the last round (under 80%)']);
    // far more than 4 MB written: Redis evicts
    const fill = client.pipeline();
    for (let i = 0; i < 400; i++) fill.set(`blob:${i}`, 'x'.repeat(20_000));
    await fill.exec();
    const full = await check(redis.url, memo);
    expect(full.status).toBe('warn');
    expect(full.details?.join('\n')).toMatch(/\d+ keys evicted since the last round/);
    // doctor has no earlier round: the same server only warns about what a single sample shows
    expect((await check(redis.url)).details?.join('\n') ?? '').not.toMatch(/evicted|hit rate/);
  });

  it('memory above 90% of maxmemory warns (noeviction keeps it there)', async () => {
    const { redis, client } = await start(['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
    for (let i = 0; ; i++) {
      const ok = await client.set(`fill:${i}`, 'y'.repeat(10_000)).then(
        () => true,
        () => false,
      );
      if (!ok) break; // OOM: full
    }
    const report = await check(redis.url);
    expect(report.status).toBe('warn');
    expect(report.details).toContainEqual(expect.stringMatching(/^memory at (9\d|1\d\d)% of maxmemory/));
  });
});

describe.skipIf(!hasRedisServer())('opsctl cache stats', () => {
  it('a few thousand keys under two patterns: hit rate, keys, memory and the patterns by size, through SCAN only', async () => {
    const password = 'cache-stats-pw-Lk3v9';
    const { redis, client } = await start(undefined, password);
    const fill = client.pipeline();
    for (let i = 0; i < 3000; i++) fill.set(`session:${i}`, 'a');
    for (let i = 0; i < 1000; i++) fill.set(`product:${i}:details`, 'p'.repeat(500));
    await fill.exec();
    const reads = client.pipeline();
    for (let i = 0; i < 150; i++) reads.get(`session:${i}`);
    for (let i = 0; i < 50; i++) reads.get(`nope:${i}`);
    await reads.exec();
    await client.config('RESETSTAT'); // from here on: only what cache stats sends

    const res = await opsctl(['-C', dir, 'cache', 'stats', '--json'], { env: { REDIS_URL: redis.url, PM2_HOME: '' } });
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'cache stats', ok: true, keys: { db0: 4000 }, evictedKeys: 0 });
    expect(doc.memory).toMatchObject({ maxBytes: 64 * 1024 * 1024, policy: 'allkeys-lru' });
    expect(doc.memory.usedBytes).toBeGreaterThan(0);
    expect(doc.sampled).toMatchObject({ keys: 4000, complete: true });
    expect(doc.patterns.map((p: { pattern: string; keys: number }) => [p.pattern, p.keys])).toEqual([
      ['product:*:details', 1000],
      ['session:*', 3000],
    ]);
    expect(doc.patterns[0].bytes).toBeGreaterThan(doc.patterns[1].bytes);
    expect(doc.hitRate).toBeNull(); // RESETSTAT: fewer than 100 lookups since
    const commands = await client.info('commandstats');
    expect(commands).toMatch(/cmdstat_scan:/);
    expect(commands).not.toMatch(/cmdstat_keys:/);
    expect(res.stdout + res.stderr).not.toContain(password);

    const text = await opsctl(['-C', dir, 'cache', 'stats'], { env: { REDIS_URL: redis.url, PM2_HOME: '' } });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^product:\*:details\s+1000\s/m);
    expect(text.stdout).toMatch(/memory\s+[\d.]+ MB of 64\.0 MB \(policy allkeys-lru\)/);
  });

  it('the hit rate since start: 150 hits and 50 misses are 75%', async () => {
    const { redis, client } = await start();
    await client.set('session:1', 'a');
    const reads = client.pipeline();
    for (let i = 0; i < 150; i++) reads.get('session:1');
    for (let i = 0; i < 50; i++) reads.get(`nope:${i}`);
    await reads.exec();
    const res = await opsctl(['-C', dir, 'cache', 'stats', '--json'], { env: { REDIS_URL: redis.url, PM2_HOME: '' } });
    expect(JSON.parse(res.stdout)).toMatchObject({ hitRate: 0.75, hits: 150, misses: 50 });
  });

  it('no Redis configured: usage error (exit 2); Redis down: exit 4; one JSON document each', async () => {
    const none = await opsctl(['-C', dir, 'cache', 'stats', '--json'], { env: { REDIS_URL: '', PM2_HOME: '' } });
    expect(none.exitCode).toBe(2);
    expect(JSON.parse(none.stdout).error.message).toMatch(/No Redis is configured/);
    const down = await opsctl(['-C', dir, 'cache', 'stats', '--json'], {
      env: { REDIS_URL: 'redis://:pw-down-123@127.0.0.1:1', PM2_HOME: '' },
    });
    expect(down.exitCode).toBe(4);
    expect(down.stderr).toMatch(/✖ Could not read the cache statistics/);
    expect(down.stdout + down.stderr).not.toContain('pw-down-123');
  });
});
