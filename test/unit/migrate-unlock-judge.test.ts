import { describe, expect, it } from 'vitest';
import { isRunnerOnThisHost, parseRunnerName, runnerApplicationName } from '../../src/db/migrate/runner-name.js';
import { judgeHolder, type LockSession, verifyReleasable } from '../../src/db/migrate/unlock.js';
import { isOpsError } from '../../src/errors.js';

const session = (applicationName: string | null, state = 'idle'): LockSession => ({
  pid: 900,
  applicationName,
  since: new Date('2026-01-01T10:00:00Z'),
  clientAddr: '10.0.0.5',
  state,
  stateChange: new Date('2026-01-01T10:05:00Z'),
});

describe('runner application_name', () => {
  it('names the pid and the host, and reads back', () => {
    expect(runnerApplicationName(4242, 'build-7')).toBe('opsctl migrate (pid 4242 on build-7)');
    expect(parseRunnerName('opsctl migrate (pid 4242 on build-7)')).toEqual({ pid: 4242, host: 'build-7' });
    expect(parseRunnerName('opsctl migrate')).toBeUndefined();
    expect(parseRunnerName('opsctl migrate (lock check)')).toBeUndefined();
    expect(parseRunnerName(null)).toBeUndefined();
  });

  it("fits PostgreSQL's 63 bytes: a long host is cut, and still recognised as this host", () => {
    const host = `ip-10-0-0-5.eu-west-1.compute.internal.${'x'.repeat(40)}`;
    const name = runnerApplicationName(4242, host);
    expect(Buffer.byteLength(name)).toBe(63);
    expect(parseRunnerName(name)?.pid).toBe(4242);
    expect(isRunnerOnThisHost(name, host)).toBe(true);
    expect(isRunnerOnThisHost(name, 'other')).toBe(false);
  });
});

describe('judgeHolder', () => {
  const env = (alive: boolean) => ({ host: 'build-7', isAlive: () => alive });

  it('gone: an idle opsctl session whose runner on this host no longer runs', () => {
    const j = judgeHolder(session('opsctl migrate (pid 4242 on build-7)'), env(false));
    expect(j.verdict).toBe('gone');
    expect(j.reason).toBe('its runner, opsctl pid 4242 on this host, is no longer running');
    expect(() => verifyReleasable(j, false)).not.toThrow();
  });

  it('alive, active, foreign and another host are refused with exit 5; --force releases only another host', () => {
    const cases = [
      [judgeHolder(session('opsctl migrate (pid 4242 on build-7)'), env(true)), 'alive'],
      [judgeHolder(session('opsctl migrate (pid 4242 on build-7)', 'active'), env(false)), 'active'],
      [judgeHolder(session('nightly-maintenance'), env(false)), 'foreign'],
      [judgeHolder(session('opsctl migrate (pid 4242 on build-8)'), env(false)), 'unknown'],
    ] as const;
    for (const [inspection, verdict] of cases) {
      expect(inspection.verdict).toBe(verdict);
      try {
        verifyReleasable(inspection, false);
        expect.unreachable(`${verdict} was not refused`);
      } catch (err) {
        expect(isOpsError(err) && err.exitCode).toBe(5);
        expect((err as Error).message).toContain('held by pid 900 (application_name');
      }
      if (verdict === 'unknown') expect(() => verifyReleasable(inspection, true)).not.toThrow();
      else expect(() => verifyReleasable(inspection, true)).toThrow();
    }
  });
});
