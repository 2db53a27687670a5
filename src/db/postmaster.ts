import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The server process recorded in PGDATA/postmaster.pid, when that file exists. */
export interface PostmasterInfo {
  pid: number;
  /** Whether that pid is a live PostgreSQL server (not a stale file left by a crash). */
  alive: boolean;
}

const LEFTOVER_POLL_MS = 100;

export function pidFile(dataDir: string): string {
  return join(dataDir, 'postmaster.pid');
}

export function readPostmaster(dataDir: string): PostmasterInfo | undefined {
  const pid = readPidFrom(pidFile(dataDir));
  if (pid === undefined) return undefined;
  return { pid, alive: pid > 0 && isPostgresProcess(pid) };
}

/** Is the embedded server running? (A pid file whose process is gone or is something else is not.) */
export function isPostmasterRunning(dataDir: string): boolean {
  return readPostmaster(dataDir)?.alive ?? false;
}

/**
 * After a crash the pid in postmaster.pid (and in the socket's .lock file) may be a zombie or belong to
 * an unrelated process; PostgreSQL then refuses to start ("lock file already exists"). Remove such files.
 * Safe: PostgreSQL 12+ still detects old backends through the shared memory key derived from PGDATA.
 * Returns true when a stale postmaster.pid was removed.
 */
export function removeStaleLockFiles(dataDir: string, socketDir: string): boolean {
  const info = readPostmaster(dataDir);
  const stale = Boolean(info && !info.alive);
  if (stale) rmSync(pidFile(dataDir), { force: true });
  const locks = existsSync(socketDir) ? readdirSync(socketDir).filter((f) => /^\.s\.PGSQL\.\d+\.lock$/.test(f)) : [];
  for (const lock of locks) {
    const pid = readPidFrom(join(socketDir, lock));
    if (pid !== undefined && pid > 0 && isPostgresProcess(pid)) continue;
    rmSync(join(socketDir, lock), { force: true });
    rmSync(join(socketDir, lock.replace(/\.lock$/, '')), { force: true });
  }
  return stale;
}

/**
 * Backends of a crashed server notice the postmaster's death and exit within moments; a new server
 * cannot start while they hold the old shared memory. Wait (bounded) for processes working in PGDATA.
 */
export async function waitForLeftovers(dataDir: string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let left = processesIn(dataDir);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, LEFTOVER_POLL_MS));
    left = processesIn(dataDir);
  }
  return left.length;
}

/** Live (non-zombie) processes whose working folder is `dir` (PostgreSQL processes chdir to PGDATA). */
function processesIn(dir: string): number[] {
  if (!existsSync('/proc/self/cwd')) return [];
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === dir && !isZombie(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone, or another user's process: not ours to wait for
    }
  }
  return pids;
}

function readPidFrom(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) ? pid : 0;
}

function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but someone else's; only /proc can tell whether it is postgres
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!existsSync('/proc/self')) return true; // no procfs (macOS): trust the live pid
  if (isZombie(pid)) return false; // a killed server not yet reaped (containers often lack a reaping init)
  try {
    return /postgres/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '');
  } catch {
    return false;
  }
}

function isZombie(pid: number): boolean {
  try {
    // "pid (comm) S ...": comm may hold spaces and parentheses, so read the state after the last ")"
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
