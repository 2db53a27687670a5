import type { CheckReport } from '../checks/types.js';
import type { AlertPayload } from './payload.js';
import { runRound } from './round.js';
import { alertSender, type WatchOptions } from './run-watch.js';
import { AlertState } from './state.js';

/**
 * `watch --once` (README, "`opsctl watch`"): one round, for cron or CI. Each failing check is a `fail` event, sent
 * to the sinks (every delivery awaited, with its retries); there is no earlier state to compare with.
 */
export async function watchOnce(
  opts: Omit<WatchOptions, 'intervalMs' | 'policy' | 'onRound' | 'followMs'>,
): Promise<{ reports: CheckReport[]; events: AlertPayload[] }> {
  const events: AlertPayload[] = [];
  const send = alertSender({
    ...opts,
    onEvent: (payload) => {
      events.push(payload);
      opts.onEvent(payload);
    },
  });
  const ctx = { config: opts.config, runner: opts.runner, timeoutMs: opts.timeoutMs, now: () => new Date() };
  const reports = await runRound(opts.checks, ctx, opts.signal);
  for (const event of new AlertState({ after: 1, repeatMs: Number.POSITIVE_INFINITY }).observe(reports, new Date())) {
    send.event(event);
  }
  await send.settled();
  return { reports, events };
}
