import { randomInt } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** How long the second load (with a decoy key) may take before its answer is given up on. */
const DECOY_TIMEOUT_MS = 10_000;

/** A load failure as the worker reports it: the error's name and its text (which may hold the key, in any form). */
export interface LoadFailure {
  name: string;
  message: string;
}

const CLASSES = ['0123456789', 'abcdef', 'ghijklmnopqrstuvwxyz', 'ABCDEF', 'GHIJKLMNOPQRSTUVWXYZ'];

/** Another key of the same shape: each letter or digit replaced by a random one of its class (hex stays hex). */
export function decoyKey(key: string): string {
  for (;;) {
    const decoy = [...key]
      .map((c) => {
        const set = CLASSES.find((s) => s.includes(c));
        return set ? set[randomInt(set.length)] : c;
      })
      .join('');
    if (decoy !== key || !CLASSES.some((s) => [...key].some((c) => s.includes(c)))) return decoy;
  }
}

/**
 * What a load error may say. Masking the key's spellings cannot be complete (upper-case hex, the bytes as numbers,
 * a slice of it): instead the module is loaded once more, in a worker of its own, with a decoy key of the same shape.
 * The same text both times does not depend on the key and is shown; otherwise only the error's name is.
 */
export async function describeLoadFailure(
  worker: URL | string,
  workerData: unknown,
  keyEnv: string,
  key: string,
  failure: LoadFailure,
): Promise<string> {
  const decoy = new Worker(worker, {
    env: { [keyEnv]: decoyKey(key) },
    workerData,
    stdout: true,
    stderr: true,
  });
  decoy.stdout.resume();
  decoy.stderr.resume();
  try {
    const other = await new Promise<LoadFailure | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), DECOY_TIMEOUT_MS);
      const settle = (value: LoadFailure | undefined) => {
        clearTimeout(timer);
        resolve(value);
      };
      decoy.on('message', (msg: { type: string; error?: string; name?: string; message?: string }) => {
        if (msg.type !== 'ready') return;
        settle(msg.error === 'load' ? { name: String(msg.name), message: String(msg.message) } : undefined);
      });
      decoy.on('error', () => settle(undefined));
      decoy.on('exit', () => settle(undefined));
    });
    if (other && other.name === failure.name && other.message === failure.message)
      return `${failure.name}: ${failure.message}`;
    return `${failure.name} (its message changes with the key, so it is not shown)`;
  } finally {
    decoy.removeAllListeners('exit');
    await decoy.terminate();
  }
}
