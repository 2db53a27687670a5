/** A check's status, as doctor reports it. */
export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';

/**
 * One check's outcome in a round: what watch needs of doctor's report (the caller runs the checks, so this room
 * stays apart from doctor's).
 */
export interface RoundReport {
  id: string;
  status: CheckStatus;
  message: string;
  hint?: string;
  /** How long the check took. */
  durationMs?: number;
}

/** Runs one round of checks; `stop` cancels the checks still running. */
export type RunRound<R extends RoundReport = RoundReport> = (stop: AbortSignal) => Promise<R[]>;

/** What watch alerts on (README, "`opsctl watch`"): changes of state, never every round. */
export type WatchEventKind = 'started' | 'fail' | 'recover' | 'reminder' | 'restart';

/** One alert, before it gets the app, host and `text` of its payload. */
export interface WatchEvent {
  event: WatchEventKind;
  /** A doctor check id; `processes` for a restart. */
  check: string;
  status: CheckStatus;
  message: string;
  hint?: string;
  /** The package, for a restart (and for `port:<pkg>` checks). */
  package?: string;
  /** PM2's id of the instance that restarted. */
  instance?: number;
  exitCode?: number;
  signal?: string;
  /** The instance's last log lines, redacted. */
  logTail?: string[];
  /** ISO time of the change. */
  at: string;
}
