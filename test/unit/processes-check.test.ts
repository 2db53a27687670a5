import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesCheck } from '../../src/checks/processes.js';
import { pm2Bin } from '../../src/pm2/cli.js';
import { appPackage, checkContext } from '../helpers/check-context.js';
import { fakeRunner } from '../helpers/fake-runner.js';

// PM2's own fields as `pm2 jlist` prints them; the daemon is "running" (its pid file names this test process)
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-processes-unit-'));
  mkdirSync(join(root, '.opsctl', 'pm2'), { recursive: true });
  writeFileSync(join(root, '.opsctl', 'pm2', 'pm2.pid'), String(process.pid));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NOW = Date.parse('2026-11-29T12:00:00Z');
const MIN = 60_000;
type Env = Record<string, unknown>;
const instance = (pmId: number, env: Env) => ({
  name: 'api',
  pm_id: pmId,
  pid: 1000 + pmId,
  pm2_env: { status: 'online', restart_time: 7, unstable_restarts: 0, kill_timeout: 5000, ...env },
});

async function check(list: object[]) {
  const runner = fakeRunner({ [`${process.execPath} ${pm2Bin()} jlist`]: { stdout: JSON.stringify(list) } });
  const ctx = checkContext({ root, env: {}, packages: [appPackage({ name: 'api' })] }, { runner });
  return processesCheck.run({ ...ctx, now: () => new Date(NOW) });
}

describe('processes check on PM2 states', () => {
  it('reloaded instances (started when last started on purpose), whatever restart_time says: pass', async () => {
    const at = NOW - 2 * MIN;
    const result = await check([instance(0, { created_at: at, pm_uptime: at, restart_time: 40 })]);
    expect(result).toMatchObject({ status: 'pass', details: ['api#0: online, up 2 min'] });
  });

  it('a start on purpose that waited for the old process to stop (kill_timeout): still not a crash', async () => {
    const result = await check([instance(0, { created_at: NOW - 10 * MIN, pm_uptime: NOW - 10 * MIN + 5_500 })]);
    expect(result.status).toBe('pass');
  });

  it('restarted by PM2 minutes after its last start on purpose: a recent crash fails, with the exit code', async () => {
    const result = await check([
      instance(0, { created_at: NOW - 30 * MIN, pm_uptime: NOW - 30 * MIN }),
      instance(1, { created_at: NOW - 30 * MIN, pm_uptime: NOW - 3 * MIN, exit_code: 1 }),
    ]);
    expect(result.status).toBe('fail');
    expect(result.message).toBe('api#1 crashed');
    expect(result.details).toEqual([
      'api#0: online, up 30 min',
      'api#1: crashed and was restarted by PM2 3 min ago (exited with code 1)',
    ]);
  });

  it('a crash more than an hour ago, up since: warn', async () => {
    const result = await check([instance(0, { created_at: NOW - 9 * 60 * MIN, pm_uptime: NOW - 3 * 60 * MIN })]);
    expect(result).toMatchObject({ status: 'warn', message: 'api#0 crashed 3 h ago' });
  });

  it('fast crashes PM2 counts as unstable: fail even right after the start', async () => {
    const result = await check([instance(0, { created_at: NOW - 3_000, pm_uptime: NOW - 500, unstable_restarts: 2 })]);
    expect(result.status).toBe('fail');
  });

  it('errored (PM2 gave up): fail, naming the last exit code', async () => {
    const result = await check([instance(0, { status: 'errored', exit_code: 1, created_at: NOW, pm_uptime: NOW })]);
    expect(result.status).toBe('fail');
    expect(result.details).toEqual([
      'api#0: errored: it kept exiting and PM2 stopped restarting it (last exited with code 1)',
    ]);
  });

  it('stopped on purpose with many restarts behind it: warn, each instance once, never "crash"', async () => {
    const stopped = { status: 'stopped', restart_time: 12, created_at: NOW - 60 * MIN, pm_uptime: NOW - 20 * MIN };
    const result = await check([instance(0, stopped), instance(1, stopped)]);
    expect(result.status).toBe('warn');
    expect(result.message).toBe('api#0, api#1 stopped on purpose (`opsctl stop` or `pm2 stop`)');
    expect(result.details).toHaveLength(2);
    expect(result.hint).toMatch(/opsctl start api/);
  });
});
