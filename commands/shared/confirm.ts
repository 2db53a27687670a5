import { createInterface } from 'node:readline/promises';
import { ExitCode, OpsError } from '../../src/errors.js';

export interface PromptStreams {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

const TERMINAL: PromptStreams = { input: process.stdin, output: process.stderr };

/** Ask a yes/no question on stderr; Ctrl-C is exit 130. Only call when `canPrompt()` (streams injectable for tests). */
export async function confirm(question: string, streams: PromptStreams = TERMINAL): Promise<boolean> {
  return /^y(es)?$/i.test((await ask(`${question} (y/N) `, streams)).trim());
}

/** Ask for a line of text on stderr (a closed input is an empty answer); Ctrl-C is exit 130. */
export async function ask(prompt: string, streams: PromptStreams = TERMINAL): Promise<string> {
  const rl = createInterface(streams);
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.on('SIGINT', () => {
        // the cursor is still after the prompt: the cancel message goes on a line of its own
        streams.output.write('\n');
        reject(new OpsError('INTERRUPTED', 'Cancelled.', { exitCode: ExitCode.interrupted }));
      });
      rl.on('close', () => resolve(''));
      rl.question(prompt).then(resolve, reject);
    });
  } finally {
    rl.close();
  }
}
