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

  it('a signal death names the signal and carries no exit code (PM2 records 0 for it, which would mislead)', async () => {
    const killedHome = mkdtempSync(join(tmpdir(), 'opsctl-watch-killed-'));
    try {
      mkdirSync(join(killedHome, 'logs'));
      writeFileSync(
        join(killedHome, 'pm2.log'),
        '2026-01-01T03:00:00.000+00:00: PM2 log: App [api:0] exited with code [0] via signal [SIGKILL]\n',
      );
      const f = new RestartFollower(killedHome, ['api']);
      await f.look([instance({ restarts: 1 })], now);
      const [event] = await f.look([instance({ restarts: 2, pid: 101, exitCode: 0 })], now);
      expect(event).toMatchObject({
        signal: 'SIGKILL',
        message: 'api#0 restarted without opsctl asking: killed by SIGKILL (out of memory, or kill -9)',
      });
      expect(event).not.toHaveProperty('exitCode');
    } finally {
      rmSync(killedHome, { recursive: true, force: true });
    }
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

  it('a crash loop is no alert storm: after a restart event, the same instance’s restarts wait for --repeat, then one event counts them', async () => {
    const hour = 60 * 60_000;
    const f = new RestartFollower(home, ['api'], hour);
    const at = (ms: number) => new Date(now.getTime() + ms);
    await f.look([instance({ restarts: 0 })], at(0));
    expect(await f.look([instance({ restarts: 1 })], at(1_000))).toHaveLength(1);
    // crashing every two seconds: quiet for the rest of the hour
    for (let i = 2; i < 30; i++) expect(await f.look([instance({ restarts: i })], at(i * 2_000))).toEqual([]);
    // another instance is its own story
    expect(await f.look([instance({ restarts: 29 }), instance({ pmId: 1, restarts: 0 })], at(70_000))).toEqual([]);
    const [second] = await f.look([instance({ restarts: 31 }), instance({ pmId: 1, restarts: 1 })], at(71_000));
    expect(second).toMatchObject({ instance: 1 });
    // an hour after the first: one event with every restart since
    const [later, ...rest] = await f.look(
      [instance({ restarts: 40 }), instance({ pmId: 1, restarts: 1 })],
      at(hour + 1_000),
    );
    expect(rest).toEqual([]);
    expect(later!.message).toMatch(/^api#0 restarted without opsctl asking \(39 times\)/);
  });
});
