import { createInterface } from 'node:readline/promises';
import { ExitCode, OpsError } from '../../src/errors.js';

/** Ask a yes/no question on stderr; Ctrl-C is exit 130. Only call when `canPrompt()` (streams injectable for tests). */
export async function confirm(
  question: string,
  streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } = {
    input: process.stdin,
    output: process.stderr,
  },
): Promise<boolean> {
  const rl = createInterface(streams);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      rl.on('SIGINT', () => reject(new OpsError('INTERRUPTED', 'Cancelled.', { exitCode: ExitCode.interrupted })));
      rl.on('close', () => resolve(''));
      rl.question(`${question} (y/N) `).then(resolve, reject);
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
