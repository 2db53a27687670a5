/** One uncaught exception, unhandled rejection or logged error with a stack, found in a log file. */
export interface CrashEvent {
  /** `TypeError`, `UnhandledPromiseRejection`, `Uncaught` (a thrown non-Error). */
  type: string;
  message: string;
  /** `routes/orders.js:42`: the first frame outside Node's internals. */
  frame?: string;
  /** The first lines of the printout, for people. */
  stack: string[];
  /** From the line itself; undefined when the line carries none. */
  timestamp?: Date;
}

/** Lines of a stack kept for display: enough to recognise it, short enough for a terminal. */
export const STACK_LINES = 4;
