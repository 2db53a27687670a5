import { ExitCode, OpsError } from '../errors.js';
import { describeHolder, findPortHolders } from '../net/port-holders.js';
import type { Runner } from '../process/runner.js';

/**
 * Throw when something listens on `port` (what doctor's `port:<pkg>` check reports), naming the holder: exit 3,
 * nothing started. `what` says whose port it is (`backend's inspector port (debugPort)`); `hint` what to change.
 */
export async function verifyPortFree(port: number, what: string, hint: string, runner: Runner): Promise<void> {
  const holders = await findPortHolders(port, { runner });
  if (!holders?.length) return;
  const pids = holders.flatMap((h) => (h.pid === undefined ? [] : [h.pid]));
  throw new OpsError(
    'PORT_TAKEN',
    `${what} ${port} is in use by ${holders.map(describeHolder).join(' and ')}; nothing was started.`,
    {
      hint: `${pids.length ? `Stop it (kill ${pids.join(' ')}), or ${hint[0]!.toLowerCase()}${hint.slice(1)}` : hint}`,
      exitCode: ExitCode.failed,
    },
  );
}
