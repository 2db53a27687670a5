/**
 * An error found in a log file. A `crash` is an uncaught exception or unhandled rejection: it killed the
 * process, or will. A `logged` error is one the app caught and logged (pino's `err` at level 50,
 * `console.error(err)`): worth a count, never a failure.
 */
export interface CrashEvent {
  kind: 'crash' | 'logged';
  /** `TypeError`, `UnhandledPromiseRejection`, `Uncaught` (a thrown non-Error). */
  type: string;
  message: string;
  /** `backend/routes/orders.js:42`: the first frame outside Node's internals, in the source tree. */
  frame?: string;
  /** The first lines of the printout, for people. */
  stack: string[];
  /** From the line itself (or PM2's stamp); undefined when nothing says. */
  timestamp?: Date;
}

/** Lines of a stack kept for display: enough to recognise it, short enough for a terminal. */
export const STACK_LINES = 4;
