import { ExitCode, OpsError } from '../errors.js';
import { describeHolder, findPortHolders } from '../net/port-holders.js';
import type { Runner } from '../process/runner.js';

export interface PortUse {
  /** Whose port it is, for the message: `backend's port`, `backend's inspector port`. */
  what: string;
  /** What to change instead of stopping the holder. */
  hint: string;
  /** The hint when the holder is the package itself (its PM2 instance): debug that one, or stop it. */
  ownHint?: string;
  isOwn?: (pid: number) => boolean;
}

/**
 * Throw when something listens on `port` (what doctor's `port:<pkg>` check reports), naming the holder: exit 3,
 * nothing started.
 */
export async function verifyPortFree(port: number, use: PortUse, runner: Runner): Promise<void> {
  const holders = await findPortHolders(port, { runner });
  if (!holders?.length) return;
  const pids = holders.flatMap((h) => (h.pid === undefined ? [] : [h.pid]));
  const own = use.ownHint && use.isOwn && pids.length > 0 && pids.every(use.isOwn);
  const hint = own
    ? use.ownHint!
    : pids.length
      ? `Stop it (kill ${pids.join(' ')}), or ${use.hint[0]!.toLowerCase()}${use.hint.slice(1)}`
      : use.hint;
  throw new OpsError(
    'PORT_TAKEN',
    `${use.what} ${port} is in use by ${holders.map(describeHolder).join(' and ')}; nothing was started.`,
    { hint, exitCode: ExitCode.failed },
  );
}
