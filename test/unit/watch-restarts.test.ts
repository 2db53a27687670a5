import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Pm2Instance } from '../../src/pm2/processes.js';
import { RestartFollower } from '../../src/watch/restarts.js';

const home = mkdtempSync(join(tmpdir(), 'opsctl-watch-restarts-'));
mkdirSync(join(home, 'logs'));
writeFileSync(join(home, 'logs', 'api-error.log'), '2026-01-01T03:00:00.000+00:00: TypeError: boom\n');
writeFileSync(
  join(home, 'pm2.log'),
  '2026-01-01T03:00:00.000+00:00: PM2 log: App [api:0] exited with code [1] via signal [SIGINT]\n',
);
afterAll(() => rmSync(home, { recursive: true, force: true }));

const instance = (over: Partial<Pm2Instance> = {}): Pm2Instance => ({
  name: 'api',
  pmId: 0,
  pid: 100,
  state: 'online',
  uptimeMs: 1000,
  restarts: 0,
  memoryBytes: 0,
  cpu: 0,
  startedOnPurposeAt: 1_000,
  ...over,
});
const now = new Date('2026-01-01T03:00:01Z');

describe('RestartFollower', () => {
  it('the first look is the baseline; a higher count with the same created_at is a restart', async () => {
    const f = new RestartFollower(home, ['api']);
    expect(await f.look([instance({ restarts: 4 })], now)).toEqual([]);
    const [event, ...rest] = await f.look([instance({ restarts: 5, pid: 101, exitCode: 1 })], now);
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      event: 'restart',
      check: 'processes',
      package: 'api',
      instance: 0,
      exitCode: 1,
      message: 'api#0 restarted without opsctl asking: exited with code 1',
      logTail: ['2026-01-01T03:00:00.000+00:00: TypeError: boom'],
    });
    expect(event).not.toHaveProperty('signal'); // PM2 writes SIGINT when there was no signal
    expect(await f.look([instance({ restarts: 5, pid: 101 })], now)).toEqual([]);
  });

  it('a restart or reload by opsctl (created_at moves) is no alert; nor a new instance, nor another app', async () => {
    const f = new RestartFollower(home, ['api']);
    await f.look([instance({ restarts: 1 })], now);
    expect(await f.look([instance({ restarts: 2, startedOnPurposeAt: 9_000 })], now)).toEqual([]);
    expect(
      await f.look(
        [
          instance({ restarts: 2, startedOnPurposeAt: 9_000 }),
          instance({ pmId: 1, restarts: 3 }),
          instance({ name: 'opsctl-watch', pmId: 2, restarts: 9 }),
        ],
        now,
      ),
    ).toEqual([]);
    expect(await f.look([instance({ name: 'other', pmId: 3, restarts: 10 })], now)).toEqual([]);
  });

  it('several restarts between two looks are one event that says how many', async () => {
    const f = new RestartFollower(home, ['api']);
    await f.look([instance({ restarts: 0 })], now);
    const [event] = await f.look([instance({ restarts: 3 })], now);
    expect(event!.message).toMatch(/^api#0 restarted without opsctl asking \(3 times\)/);
  });
});
