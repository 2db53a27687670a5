import type { RoundReport, WatchEvent } from './types.js';

export interface AlertPolicy {
  /** Consecutive failing rounds before `fail` is sent (against flapping). */
  after: number;
  /** A check still failing this long after its last alert gets a `reminder`. */
  repeatMs: number;
}

interface CheckState {
  failing: boolean;
  streak: number;
  lastAlertAt: number;
  failingSince: number;
}

/**
 * The alert state of every check across rounds (README, "`opsctl watch`"): `fail` once a check has failed `after`
 * rounds in a row, `recover` when a failed check passes or warns again, `reminder` every `repeatMs` while it keeps
 * failing. A skipped check changes nothing.
 */
export class AlertState {
  private readonly checks = new Map<string, CheckState>();

  constructor(private readonly policy: AlertPolicy) {}

  /** The events one round's reports cause. */
  observe(reports: RoundReport[], now: Date): WatchEvent[] {
    const at = now.getTime();
    const events: WatchEvent[] = [];
    for (const r of reports) {
      if (r.status === 'skip') continue;
      const state = this.checks.get(r.id) ?? { failing: false, streak: 0, lastAlertAt: 0, failingSince: 0 };
      this.checks.set(r.id, state);
      const event = (kind: WatchEvent['event'], message = r.message): WatchEvent => ({
        event: kind,
        check: r.id,
        status: r.status,
        message,
        ...(r.hint && r.status !== 'pass' ? { hint: r.hint } : {}),
        ...(r.id.startsWith('port:') ? { package: r.id.slice('port:'.length) } : {}),
        at: now.toISOString(),
      });
      if (r.status !== 'fail') {
        state.streak = 0;
        if (state.failing) events.push(event('recover'));
        state.failing = false;
        continue;
      }
      state.streak++;
      if (!state.failing && state.streak >= this.policy.after) {
        Object.assign(state, { failing: true, lastAlertAt: at, failingSince: at });
        events.push(event('fail'));
      } else if (state.failing && at - state.lastAlertAt >= this.policy.repeatMs) {
        state.lastAlertAt = at;
        events.push(event('reminder', `still failing for ${since(at - state.failingSince)}: ${r.message}`));
      }
    }
    return events;
  }

  /** Is any check in the failed state (alerted and not recovered)? */
  hasFailing(): boolean {
    return [...this.checks.values()].some((s) => s.failing);
  }
}

function since(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 360) / 10} h`;
}
