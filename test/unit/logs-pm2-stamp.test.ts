import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasStamp, readFailedExits, readLastExits, splitStamp } from '../../src/logs/pm2-stamp.js';
import type { AppPackage } from '../../src/packages/types.js';
import { writeEcosystem } from '../../src/pm2/ecosystem.js';

/** 2026-11-29 05:08:53.123 UTC, the one instant every stamp below names. */
const INSTANT = Date.UTC(2026, 10, 29, 5, 8, 53, 123);

describe('PM2 stamps with the zone they were written in (issue 9)', () => {
  it('reads the UTC offset opsctl has PM2 write, whatever the zone of the reader', () => {
    for (const stamp of [
      '2026-11-29T14:08:53.123+09:00',
      '2026-11-28T21:08:53.123-08:00',
      '2026-11-29T05:08:53.123+00:00',
      '2026-11-29T05:08:53.123Z',
      '2026-11-29T14:08:53.123+0900',
    ]) {
      expect(splitStamp(`${stamp}: listening`), stamp).toEqual({ text: 'listening', stamp: new Date(INSTANT) });
      expect(hasStamp(`boot\n${stamp}: listening`), stamp).toBe(true);
    }
  });

  it('reads a stamp without a zone (older opsctl, own PM2 setup) as the local time of the machine', () => {
    expect(splitStamp('2026-11-29T14:08:53: listening')).toEqual({
      text: 'listening',
      stamp: new Date(2026, 10, 29, 14, 8, 53),
    });
    expect(splitStamp('2026-11-29T14:08:53.5: x').stamp).toEqual(new Date(2026, 10, 29, 14, 8, 53, 500));
  });

  it('leaves lines that only look like a stamp alone', () => {
    for (const line of [
      '2026-11-29T14:08:53+09:00 no colon after',
      '2026-11-29 14:08:53: a space',
      'at x (a.js:1:2)',
    ]) {
      expect(splitStamp(line), line).toEqual({ text: line });
      expect(hasStamp(line), line).toBe(false);
    }
  });

  it("reads PM2's exits in pm2.log with or without a zone", () => {
    const log = [
      '2026-11-29T14:08:53.123+09:00: PM2 log: App [backend:0] exited with code [1] via signal [SIGINT]',
      '2026-11-29T14:08:54: PM2 log: App [backend:1] exited with code [7] via signal [SIGINT]',
      '2026-11-29T14:08:55.000+09:00: PM2 log: App [worker:0] exited with code [0] via signal [SIGINT]',
    ].join('\n');
    expect(readFailedExits(log)).toEqual(
      new Map([['backend', [new Date(INSTANT), new Date(2026, 10, 29, 14, 8, 54)]]]),
    );
  });

  it('has PM2 stamp app output with its UTC offset (never `time: true`, which drops the zone)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsctl-eco-'));
    try {
      const pkg: AppPackage = {
        name: 'api',
        dir: join(dir, 'api'),
        path: 'api',
        scripts: { start: 'node server.js' },
        dependencies: {},
        devDependencies: {},
        dependsOn: [],
        env: {},
        outputs: [],
      };
      const file = writeEcosystem(join(dir, 'apps'), pkg, join(dir, 'current'));
      const app = (JSON.parse(readFileSync(file, 'utf8')) as { apps: Array<Record<string, unknown>> }).apps[0]!;
      expect(app.log_date_format).toBe('YYYY-MM-DDTHH:mm:ss.SSSZ');
      expect(app.time).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("readLastExits: how each instance last exited, from PM2's own log", () => {
  it("keeps the last line per instance; a signal other than SIGINT (PM2's word for none) is what ended it", () => {
    const log = [
      '2026-11-29T14:08:29: PM2 log: App [api:0] exited with code [1] via signal [SIGINT]',
      '2026-11-29T14:08:30: PM2 log: App [api:1] exited with code [0] via signal [SIGINT]',
      '2026-11-29T14:08:31: PM2 log: App [api:0] exited with code [0] via signal [SIGKILL]',
      '2026-11-29T14:08:32: PM2 log: App [api:_old_1] exited with code [0] via signal [SIGTERM]',
      '2026-11-29T14:08:33: PM2 log: App [worker:2] exited with code [137]',
      '2026-11-29T14:08:34: PM2 log: Stopping app:api id:1',
    ].join('\n');
    expect(readLastExits(log)).toEqual(
      new Map([
        ['api:0', { code: 0, signal: 'SIGKILL' }],
        ['api:1', { code: 0 }],
        ['worker:2', { code: 137 }],
      ]),
    );
  });
});
