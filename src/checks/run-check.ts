import { errorMessage } from '../errors.js';
import type { Check, CheckContext, CheckReport } from './types.js';

/**
 * Run one check within `timeoutMs`; a check that overruns or throws becomes a `fail` report. `stop` (watch ending)
 * cancels it at once: its report then says so and is not meant to be shown.
 */
export async function runCheck(
  check: Check,
  ctx: Omit<CheckContext, 'signal'>,
  stop?: AbortSignal,
): Promise<CheckReport> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckReport>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({
        id: check.id,
        status: 'fail',
        message: `timed out after ${ctx.timeoutMs} ms`,
        hint: 'The service did not answer in time: check that it is not overloaded or stuck, or raise --timeout.',
        durationMs: ctx.timeoutMs,
      });
    }, ctx.timeoutMs);
    stop?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        controller.abort();
        resolve({ id: check.id, status: 'skip', message: 'stopped', durationMs: elapsed(started) });
      },
      { once: true, signal: controller.signal },
    );
  });
  const work = check
    .run({ ...ctx, signal: controller.signal })
    .then((result) => ({ id: check.id, ...result }))
    .catch((err: unknown) => ({
      id: check.id,
      status: 'fail' as const,
      message: `the check itself failed: ${errorMessage(err)}`,
      hint: 'Run with --debug for details and report it if it persists.',
    }));
  try {
    const report = await Promise.race([work.then((r) => ({ ...r, durationMs: elapsed(started) })), timeout]);
    return report;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
