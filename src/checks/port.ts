import { describeHolder, findPortHolders } from '../net/port-holders.js';
import type { AppPackage } from '../packages/types.js';
import type { Check, CheckResult } from './types.js';

export interface PortCheckOptions {
  /**
   * Is this PID the package's own running process (e.g. its PM2 instance)? Then holding the port is
   * expected and the check passes. Without it every holder is a conflict: a process whose cwd is the
   * package dir may still be a stale copy started by hand, so we do not guess.
   */
  isOwnProcess?: (pid: number) => boolean | Promise<boolean>;
  /** A fake /proc for tests. */
  procRoot?: string;
}

/** `port:<pkg>`: the package's port is free, or held by its own process; otherwise name the holder. */
export function portCheck(pkg: AppPackage, options: PortCheckOptions = {}): Check {
  return {
    id: `port:${pkg.name}`,
    async run({ runner, signal }): Promise<CheckResult> {
      const port = pkg.port;
      if (port === undefined) {
        return {
          status: 'skip',
          message: `${pkg.name} has no port configured`,
          hint: `Set packages.${pkg.name}.port in opsctl.config.yaml to have it checked.`,
        };
      }
      const holders = await findPortHolders(port, { runner, procRoot: options.procRoot, signal });
      if (!holders) {
        return {
          status: 'warn',
          message: `cannot tell whether port ${port} is free: no /proc/net, lsof or ss on this host`,
          hint: 'Install lsof (or iproute2 for ss) so opsctl can see listening sockets.',
        };
      }
      if (!holders.length) return { status: 'pass', message: `port ${port} is free` };
      const own = await Promise.all(
        holders.map(async (h) => h.pid !== undefined && (await options.isOwnProcess?.(h.pid)) === true),
      );
      if (own.every(Boolean)) {
        return {
          status: 'pass',
          message: `port ${port} is held by ${pkg.name} itself (${holders.map(describeHolder).join(', ')})`,
        };
      }
      const foreign = holders.filter((_, i) => !own[i]);
      const pids = foreign.flatMap((h) => (h.pid === undefined ? [] : [h.pid]));
      const kill = pids.length ? `Stop it (kill ${pids.join(' ')}) or` : 'Find it with `sudo ss -ltnp` and stop it, or';
      return {
        status: 'fail',
        message: `port ${port} is in use by ${foreign.map(describeHolder).join(' and ')}`,
        hint: `${kill} change packages.${pkg.name}.port in opsctl.config.yaml.`,
        details: foreign.map((h) => `${describeHolder(h)} listening on ${h.addresses.join(', ')}`),
      };
    },
  };
}
