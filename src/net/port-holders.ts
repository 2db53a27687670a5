import type { Runner } from '../process/runner.js';
import { formatCommandLine } from './command-line.js';
import { type Listener, listListeners, readCommandLine } from './listeners.js';

/** A process listening on a port, with its command line made safe to print. */
export interface PortHolder {
  /** Undefined when the socket is visible but its process is not (another user's, without root). */
  pid?: number;
  /** Redacted command line, when readable. */
  command?: string;
  addresses: string[];
}

/**
 * Who listens on `port`: one entry per holding process (IPv4 and IPv6 sockets of one process merged).
 * Undefined when this host offers no way to tell (no /proc/net, no lsof, no ss).
 */
export async function findPortHolders(
  port: number,
  options: { runner: Runner; procRoot?: string; signal?: AbortSignal },
): Promise<PortHolder[] | undefined> {
  const listeners = await listListeners({ ...options, port });
  if (!listeners) return undefined;
  const byPid = new Map<number | undefined, Listener[]>();
  for (const l of listeners) byPid.set(l.pid, [...(byPid.get(l.pid) ?? []), l]);
  return Promise.all(
    [...byPid].map(async ([pid, list]) => {
      const argv = pid === undefined ? undefined : await readCommandLine(pid, options);
      return {
        pid,
        command: argv ? formatCommandLine(argv) : undefined,
        addresses: list.map((l) => l.address),
      };
    }),
  );
}

/** `PID 1234 (node server.js)`, or what we know when the process is hidden from us. */
export function describeHolder(holder: PortHolder): string {
  if (holder.pid === undefined) return 'a process this user cannot see';
  return holder.command ? `PID ${holder.pid} (${holder.command})` : `PID ${holder.pid}`;
}
