import type { AlertPayload } from './payload.js';
import { alertSender, type WatchOptions } from './run-watch.js';
import { AlertState } from './state.js';
import type { RoundReport, RunRound } from './types.js';

/**
 * `watch --once` (README, "`opsctl watch`"): one round, for cron or CI. Each failing check is a `fail` event, sent
 * to the sinks (every delivery awaited, with its retries); there is no earlier state to compare with.
 */
export async function watchOnce<R extends RoundReport>(
  opts: Omit<WatchOptions, 'intervalMs' | 'policy' | 'onRound' | 'followMs' | 'round'> & { round: RunRound<R> },
): Promise<{ reports: R[]; events: AlertPayload[] }> {
  const events: AlertPayload[] = [];
  const send = alertSender({
    ...opts,
    onEvent: (payload) => {
      events.push(payload);
      opts.onEvent(payload);
    },
  });
  const reports = await opts.round(opts.signal);
  for (const event of new AlertState({ after: 1, repeatMs: Number.POSITIVE_INFINITY }).observe(reports, new Date())) {
    send.event(event);
  }
  await send.settled();
  return { reports, events };
}
