import { runCheck } from '../checks/run-check.js';
import type { Check, CheckContext, CheckReport } from '../checks/types.js';

/** One round of doctor's checks, concurrently, in doctor's order; `stop` cancels the checks still running. */
export function runRound(
  checks: Check[],
  ctx: Omit<CheckContext, 'signal'>,
  stop?: AbortSignal,
): Promise<CheckReport[]> {
  return Promise.all(checks.map((check) => runCheck(check, ctx, stop)));
}
