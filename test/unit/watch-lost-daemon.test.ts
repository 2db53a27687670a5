import { describe, expect, it } from 'vitest';
import { lostDaemon } from '../../src/checks/lost-daemon.js';
import type { Pm2Instance } from '../../src/pm2/processes.js';

const api = (state: string, pmId = 0): Pm2Instance => ({
  name: 'api',
  pmId,
  pid: 100 + pmId,
  state,
  uptimeMs: 1000,
  restarts: 0,
  memoryBytes: 0,
  cpu: 0,
  startedOnPurposeAt: 1_000,
});

describe('lostDaemon (processes under watch)', () => {
  it('fails once the daemon that ran online instances is gone or replaced by an empty one, until they run again', () => {
    const memo = new Map<string, unknown>();
    expect(lostDaemon(memo, 10, [api('online'), api('online', 1)])).toBeUndefined();
    expect(lostDaemon(memo, undefined, undefined)).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(/^the PM2 daemon that ran api#0, api#1 is gone/),
    });
    expect(lostDaemon(memo, 11, [])).toMatchObject({ status: 'fail' }); // a new, empty daemon
    expect(lostDaemon(memo, 11, [api('online')])).toBeUndefined(); // deployed again
    expect(lostDaemon(memo, 11, [api('online')])).toBeUndefined();
  });

  it('no alert when the instances were stopped or deleted on purpose first, nor in doctor (no memo)', () => {
    const memo = new Map<string, unknown>();
    lostDaemon(memo, 10, [api('online')]);
    expect(lostDaemon(memo, 10, [api('stopped')])).toBeUndefined();
    expect(lostDaemon(memo, undefined, undefined)).toBeUndefined();

    lostDaemon(memo, 12, [api('online')]);
    expect(lostDaemon(memo, 12, [])).toBeUndefined(); // `pm2 delete api` on the same daemon
    expect(lostDaemon(memo, undefined, undefined)).toBeUndefined();

    expect(lostDaemon(undefined, undefined, undefined)).toBeUndefined();
  });
});
