import { isOpsError } from '../../src/errors.js';

/** The OpsError a call throws, as `{ exitCode, message, hint }`; fails the test when it throws nothing or something else. */
export function opsErrorOf(fn: () => unknown): { exitCode: number; message: string; hint?: string } {
  try {
    fn();
  } catch (err) {
    if (isOpsError(err)) return { exitCode: err.exitCode, message: err.message, hint: err.hint };
    throw err;
  }
  throw new Error('expected an OpsError');
}
