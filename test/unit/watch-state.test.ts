import { describe, expect, it } from 'vitest';
import { parseInterval } from '../../src/logs/duration.js';
import { AlertState } from '../../src/watch/state.js';
import type { RoundReport } from '../../src/watch/types.js';

const t0 = Date.parse('2026-01-01T03:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);
const redis = (status: RoundReport['status']): RoundReport => ({
  id: 'redis',
  status,
  message: status === 'fail' ? 'connection refused' : 'PONG',
  hint: 'Start Redis.',
});

/** Feed rounds of one check; the events of each round, by kind. */
function run(state: AlertState, statuses: Array<RoundReport['status']>, start = 0): string[][] {
  return statuses.map((s, i) => state.observe([redis(s)], at(start + i * 30)).map((e) => e.event));
}

describe('watch alert state', () => {
  it('a green start sends nothing; a failure is one fail, the pass after it one recover', () => {
    const state = new AlertState({ after: 1, repeatMs: 3_600_000 });
    expect(run(state, ['pass', 'pass', 'fail', 'fail', 'fail', 'pass', 'pass'])).toEqual([
      [],
      [],
      ['fail'],
      [],
      [],
      ['recover'],
      [],
    ]);
  });

  it('--after 3: two failing rounds between passes send nothing (flapping); the third in a row sends fail', () => {
    const state = new AlertState({ after: 3, repeatMs: 3_600_000 });
    expect(run(state, ['fail', 'fail', 'pass', 'fail', 'fail', 'fail', 'fail', 'warn']).flat()).toEqual([
      'fail',
      'recover',
    ]);
    const again = new AlertState({ after: 3, repeatMs: 3_600_000 });
    expect(run(again, ['fail', 'fail', 'fail'])).toEqual([[], [], ['fail']]);
  });

  it('a reminder every --repeat while it keeps failing, saying for how long', () => {
    const state = new AlertState({ after: 1, repeatMs: 60_000 });
    const events = [0, 30, 60, 90, 120].flatMap((s) => state.observe([redis('fail')], at(s)));
    expect(events.map((e) => e.event)).toEqual(['fail', 'reminder', 'reminder']);
    expect(events[1]!.message).toBe('still failing for 60 s: connection refused');
    expect(events[1]).toMatchObject({ check: 'redis', status: 'fail', hint: 'Start Redis.' });
  });

  it('a skipped check changes nothing; a warn counts as recovered; each check has its own state', () => {
    const state = new AlertState({ after: 1, repeatMs: 3_600_000 });
    expect(run(state, ['fail', 'skip', 'fail', 'warn'])).toEqual([['fail'], [], [], ['recover']]);
    const events = state.observe(
      [
        { id: 'port:api', status: 'fail', message: 'port 3000 is taken' },
        { id: 'redis', status: 'pass', message: 'PONG' },
      ],
      at(200),
    );
    expect(events).toEqual([
      expect.objectContaining({ event: 'fail', check: 'port:api', package: 'api', at: at(200).toISOString() }),
    ]);
    expect(state.hasFailing()).toBe(true);
  });
});

describe('parseInterval', () => {
  it.each([
    ['500ms', 500],
    ['500', 500],
    [1500, 1500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
  ])('%s is %i ms', (text, ms) => expect(parseInterval(text)).toBe(ms));

  it.each(['0', '0ms', '', 'soon', '5 minutes', '-1s', '1.5s'])('"%s" is not a duration', (text) =>
    expect(parseInterval(text)).toBeUndefined(),
  );
});
