// The example app made green for the doctor benchmark: "green" is made, not assumed. A copy of examples/shop with
// its packages installed, its migrations applied to a fresh database, and a Redis of its own configured as a cache
// (maxmemory and an evicting policy), so every check doctor runs on it passes.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, freePort, psql } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const SHOP = fileURLToPath(new URL('../examples/shop', import.meta.url));
const NOT_COPIED = ['node_modules', '.opsctl', 'dist'];
const PG_URL = process.env.OPSCTL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `{dir, env, redisUrl, stop}`: the green copy, the environment doctor needs there, and how to remove it all. */
export async function greenShop() {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-doctor-'));
  const stops = [() => rmSync(dir, { recursive: true, force: true })];
  const stop = () => {
    for (const fn of stops.reverse()) fn();
  };
  try {
    cpSync(SHOP, dir, { recursive: true, filter: (src) => !NOT_COPIED.includes(basename(src)) });
    for (const pkg of ['backend', 'frontend']) {
      const args = ['ci', '--no-audit', '--no-fund', '--prefer-offline'];
      execFileSync('npm', args, { cwd: join(dir, pkg), stdio: 'ignore' });
    }
    const redisPort = await freePort();
    const cache = ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'];
    const redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...cache],
      { stdio: 'ignore' },
    );
    stops.push(() => redis.kill());
    const redisUrl = `redis://127.0.0.1:${redisPort}`;
    const database = `opsctl_bench_doctor_${process.pid}`;
    const databaseUrl = createDatabase(database);
    stops.push(() => psql(PG_URL, ['-c', `drop database if exists ${database} with (force)`]));
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      // the example backend's .env.example asks for ENCRYPTION_KEY (the demo generates one into .env)
      ENCRYPTION_KEY: 'bench-key-not-a-secret',
    };
    execFileSync(process.execPath, [BIN, '-C', dir, 'migrate'], { env, stdio: 'ignore' });
    return { dir, env, redisUrl, stop };
  } catch (err) {
    stop();
    throw err;
  }
}
