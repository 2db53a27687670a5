import { isOpsError } from '../../src/errors.js';

/** The OpsError a call throws, as `{ exitCode, message }`; fails the test when it throws nothing or something else. */
export function opsErrorOf(fn: () => unknown): { exitCode: number; message: string } {
  const { exitCode, message } = opsErrorWithHintOf(fn);
  return { exitCode, message };
}

/** The same with the error's hint, for tests that check what the user is told to do. */
export function opsErrorWithHintOf(fn: () => unknown): { exitCode: number; message: string; hint?: string } {
  try {
    fn();
  } catch (err) {
    if (isOpsError(err)) return { exitCode: err.exitCode, message: err.message, hint: err.hint };
    throw err;
  }
  throw new Error('expected an OpsError');
}
