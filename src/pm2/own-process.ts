import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pm2 } from './cli.js';
import { isDaemonRunning } from './home.js';
import type { Pm2Instance } from './processes.js';

const MAX_ANCESTORS = 16;

/**
 * A predicate "is this PID one of the package's own PM2 processes?": an instance, a descendant of one
 * (`npm start` runs node as its child), or the PM2 daemon itself (in cluster mode it holds the listening
 * socket for its workers). Without a running daemon nothing is ours.
 */
export async function ownProcessPredicate(
  pm2: Pm2,
  pkg: string,
  procRoot = '/proc',
  instances?: Pm2Instance[],
): Promise<(pid: number) => boolean> {
  if (!isDaemonRunning(pm2.home)) return () => false;
  const list = instances ?? (await pm2.jlist());
  const pids = new Set(list.filter((p) => p.name === pkg && p.pid > 0).map((p) => p.pid));
  const daemon = Number(readFileSync(join(pm2.home, 'pm2.pid'), 'utf8').trim());
  if (pids.size && daemon > 0) pids.add(daemon);
  return (pid) => {
    let current: number | undefined = pid;
    for (let i = 0; current && i < MAX_ANCESTORS; i++) {
      if (pids.has(current)) return true;
      current = parentPid(current, procRoot);
    }
    return false;
  };
}

function parentPid(pid: number, procRoot: string): number | undefined {
  const stat = join(procRoot, String(pid), 'stat');
  if (!existsSync(stat)) return undefined;
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
    const text = readFileSync(stat, 'utf8');
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    return ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}
