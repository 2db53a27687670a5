import type { ResolvedConfig } from '../config/types.js';
import type { Runner } from '../process/runner.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/** What a check found. Expected failures are values, not exceptions. */
export interface CheckResult {
  status: CheckStatus;
  message: string;
  hint?: string;
  /** Extra lines for people (a log group's stack, a holder's command line). */
  details?: string[];
}

/** A finished check as reported by `opsctl doctor` (README, "JSON shapes"). */
export interface CheckReport extends CheckResult {
  id: string;
  durationMs: number;
}

export interface CheckContext {
  config: ResolvedConfig;
  runner: Runner;
  /** Aborted when the check's time is up; long operations should stop then. */
  signal: AbortSignal;
  timeoutMs: number;
  now: () => Date;
  /** `doctor --since`: log entries older than this are ignored (default: since the current release started). */
  since?: Date;
  /**
   * `processes`: a crash this recent (PM2 restarted the instance, it is online again) fails the check, an older one
   * warns; default one hour. `watch` sets 0: it reports each such restart as a `restart` event already.
   */
  recentCrashMs?: number;
  /** What a check keeps from one round to the next under `watch` (Redis' counters, for rates); none in doctor. */
  memo?: Map<string, unknown>;
}

export interface Check {
  id: string;
  run(ctx: CheckContext): Promise<CheckResult>;
}
