import type { CheckStatus } from '../checks/types.js';

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
