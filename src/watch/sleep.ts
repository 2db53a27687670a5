import { setTimeout as wait } from 'node:timers/promises';

/** Wait `ms`, or less when `signal` aborts: true when the whole time passed. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return wait(ms, true, { signal }).catch(() => false);
}
