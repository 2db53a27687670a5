import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unsetSources } from '../../src/app/env.js';
import { postgresCheck } from '../../src/checks/postgres.js';
import { redisCheck } from '../../src/checks/redis.js';
import { runCheck } from '../../src/checks/run-check.js';
import { interpolate } from '../../src/config/interpolate.js';
import { loadConfig } from '../../src/config/load.js';
import { createRunner } from '../../src/process/runner.js';

const dirs: string[] = [];
function app(config: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-unset-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'opsctl.config.yaml'), config);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('interpolate: which config paths read a variable that is not set', () => {
  it('whole and embedded placeholders, not those with a default or a value', () => {
    const res = interpolate(
      { redis: { url: '${R}' }, a: ['x-${B}', '${C:-d}', '${D}'], e: { f: '${SET}' } },
      { SET: 'v' },
    );
    expect(res.unset).toEqual([
      { path: ['redis', 'url'], name: 'R' },
      { path: ['a', '0'], name: 'B' },
      { path: ['a', '2'], name: 'D' },
    ]);
    expect(res.missing).toEqual(['B']);
  });
});

describe('loadConfig: unsetRefs', () => {
  it('names redis.url and a package env key, under the --env overlay too', () => {
    const root = app(
      'packages:\n  api:\n    path: .\n    env: { FOO: "${FOO}" }\nredis: { url: "${REDIS_URL}" }\n' +
        'environments:\n  production: { database: { url: "${PROD_DB}" } }\n',
      { 'package.json': '{"name":"api","scripts":{"start":"node x"}}' },
    );
    const config = loadConfig({ cwd: root, env: 'production', processEnv: {} });
    expect(config.unsetRefs).toEqual({
      'redis.url': ['REDIS_URL'],
      'packages.api.env.FOO': ['FOO'],
      'database.url': ['PROD_DB'],
    });
    expect(unsetSources(config, config.packages[0]!)).toEqual({
      REDIS_URL: ['REDIS_URL'],
      FOO: ['FOO'],
      DATABASE_URL: ['PROD_DB'],
    });
    // .env sets it: nothing is unset
    writeFileSync(join(root, '.env'), 'REDIS_URL=redis://127.0.0.1:6379\nFOO=1\nPROD_DB=postgres://h/db\n');
    expect(loadConfig({ cwd: root, env: 'production', processEnv: {} }).unsetRefs).toEqual({});
  });

  it('without a redis.url in the config, REDIS_URL itself is the source; a set one is none', () => {
    const root = app('packages:\n  api:\n    path: .\n', {
      'package.json': '{"name":"api","scripts":{"start":"node x"}}',
    });
    const config = loadConfig({ cwd: root, processEnv: {} });
    expect(unsetSources(config, config.packages[0]!)).toMatchObject({ REDIS_URL: ['REDIS_URL'] });
    const set = loadConfig({ cwd: root, processEnv: { REDIS_URL: 'redis://127.0.0.1:1' } });
    expect(unsetSources(set, set.packages[0]!).REDIS_URL).toBeUndefined();
  });
});

describe('doctor: a URL the config reads from an unset variable', () => {
  const run = (root: string, check: typeof redisCheck) =>
    runCheck(check, {
      config: loadConfig({ cwd: root, processEnv: {} }),
      runner: createRunner(),
      timeoutMs: 3000,
      now: () => new Date(),
    });

  it('redis: warn naming ${REDIS_URL}, not skip', async () => {
    const row = await run(app('redis: { url: "${REDIS_URL}" }\n'), redisCheck);
    expect(row).toMatchObject({ status: 'warn', message: expect.stringContaining('${REDIS_URL}') });
  });

  it('redis: nothing configured is still a skip', async () => {
    expect((await run(app('{}\n'), redisCheck)).status).toBe('skip');
  });

  it('postgres: warn naming ${APP_DB}, not skip "no database configured"', async () => {
    const row = await run(app('database: { url: "${APP_DB}" }\n'), postgresCheck);
    expect(row).toMatchObject({ status: 'warn', message: expect.stringContaining('${APP_DB}') });
  });
});
