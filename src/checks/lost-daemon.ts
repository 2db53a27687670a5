import type { Pm2Instance } from '../pm2/processes.js';
import type { CheckResult } from './types.js';

/** The PM2 daemon that last ran the app's instances, kept from one round to the next under `watch`. */
interface DaemonSeen {
  pid: number;
  instances: string[];
}

const MEMO_KEY = 'processes:daemon';

/**
 * Under `watch` (README, "`opsctl watch`"): the PM2 daemon that ran the app's instances died (killed, out of
 * memory) and took them with it, or a new daemon without them took its place. Doctor alone cannot tell that from
 * "nothing deployed"; watch remembers which daemon ran which instances. opsctl never stops the daemon on purpose.
 * Returns the failure, or undefined (and remembers what runs now) when the app's instances are where they were.
 */
export function lostDaemon(
  memo: Map<string, unknown> | undefined,
  daemon: number | undefined,
  instances: Pm2Instance[] | undefined,
): CheckResult | undefined {
  if (!memo) return undefined;
  const seen = memo.get(MEMO_KEY) as DaemonSeen | undefined;
  const running = (instances ?? []).filter((p) => p.state !== 'stopped' && p.state !== 'stopping');
  if (daemon !== undefined && running.length) {
    memo.set(MEMO_KEY, { pid: daemon, instances: running.map((p) => `${p.name}#${p.pmId}`) });
    return undefined;
  }
  if (daemon !== undefined && instances?.length) {
    memo.delete(MEMO_KEY); // all stopped on purpose (`opsctl stop`): a daemon ending later takes nothing down
    return undefined;
  }
  if (!seen) return undefined;
  if (daemon === seen.pid) {
    memo.delete(MEMO_KEY); // the same daemon, its instances deleted: done on purpose (`pm2 delete`)
    return undefined;
  }
  return {
    status: 'fail',
    message: `the PM2 daemon that ran ${seen.instances.join(', ')} is gone (killed, or out of memory): the app no longer runs under PM2`,
    hint: '`opsctl deploy` (or `opsctl start`) starts it again; the system log (`journalctl -k`, `dmesg`) says whether the kernel killed PM2.',
  };
}
