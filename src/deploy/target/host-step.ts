import { errorMessage } from '../../errors.js';
import type { HostRun, HostStepName } from './types.js';

/** Run `fn` as step `step` of a host: recorded done (with its note) or failed (with the error's message). */
export async function hostStep<T>(
  host: HostRun,
  step: HostStepName,
  fn: () => Promise<T>,
  note?: (value: T) => string | undefined,
): Promise<T> {
  const started = performance.now();
  const durationMs = () => Math.round(performance.now() - started);
  try {
    const value = await fn();
    const reason = note?.(value);
    host.report.steps.push({ step, status: 'done', ...(reason ? { reason } : {}), durationMs: durationMs() });
    return value;
  } catch (error) {
    host.report.steps.push({ step, status: 'failed', reason: errorMessage(error), durationMs: durationMs() });
    host.report.ok = false;
    throw error;
  }
}

export function skipStep(host: HostRun, step: HostStepName, reason: string): void {
  host.report.steps.push({ step, status: 'skipped', reason, durationMs: 0 });
}

/** The short form of an archive's sha256 that reports and the hosts' folders use. */
export const shortSha = (sha: string | undefined) => sha?.slice(0, 16);
