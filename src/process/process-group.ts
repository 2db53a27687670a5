import { existsSync, readdirSync, readFileSync } from 'node:fs';

const POLL_MS = 50;

/** Sleep without returning to the event loop (usable in an `exit` handler). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Whether a process with this pid exists (one of another user's counts: signalling it is just not allowed). */
export function isProcessRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Live (non-zombie) members of a process group. From /proc on Linux; elsewhere `kill(-pgid, 0)`, which also
 * counts zombies, so the caller's grace period just runs out before SIGKILL.
 */
export function groupAlive(pgid: number, procRoot = '/proc'): boolean {
  if (existsSync(`${procRoot}/self/stat`)) {
    for (const entry of readdirSync(procRoot)) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`${procRoot}/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
      } catch {
        // exited while we looked
      }
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stop process groups synchronously: SIGTERM, wait up to `graceMs`, then SIGKILL whatever is left. Synchronous
 * so it also works from `process.on('exit')`, where Ctrl-C handling ends up.
 */
export function stopGroupsSync(pgids: number[], graceMs: number): void {
  const signal = (pgid: number, sig: NodeJS.Signals) => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // already gone
    }
  };
  for (const pgid of pgids) signal(pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let alive = pgids.filter((g) => groupAlive(g));
  while (alive.length && Date.now() < deadline) {
    sleepSync(POLL_MS);
    alive = alive.filter((g) => groupAlive(g));
  }
  for (const pgid of alive) signal(pgid, 'SIGKILL');
}
