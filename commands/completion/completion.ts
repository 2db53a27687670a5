import { ExitCode } from '../../src/errors.js';
import type { Invocation } from '../shared/context.js';
import { completionScript, type Shell } from './scripts.js';

/** `opsctl completion <shell>`: the script on stdout (nothing to load, no config needed). */
export async function completion(_cmd: Invocation, shell: Shell): Promise<number> {
  process.stdout.write(completionScript(shell));
  return ExitCode.ok;
}
