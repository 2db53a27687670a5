import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The server process recorded in PGDATA/postmaster.pid, when that file exists. */
export interface PostmasterInfo {
  pid: number;
  /** Whether that pid is a live PostgreSQL server (not a stale file left by a crash). */
  alive: boolean;
}

export function pidFile(dataDir: string): string {
  return join(dataDir, 'postmaster.pid');
}

export function readPostmaster(dataDir: string): PostmasterInfo | undefined {
  const file = pidFile(dataDir);
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return { pid: 0, alive: false };
  return { pid, alive: isPostgresProcess(pid) };
}

/** Is the embedded server running? (A pid file whose process is gone or is something else is not.) */
export function isPostmasterRunning(dataDir: string): boolean {
  return readPostmaster(dataDir)?.alive ?? false;
}

/**
 * After a crash the pid in postmaster.pid may belong to an unrelated process; PostgreSQL then refuses
 * to start ("lock file already exists"). Remove the file when its process is not a live postgres.
 * Returns true when a stale file was removed.
 */
export function removeStalePidFile(dataDir: string): boolean {
  const info = readPostmaster(dataDir);
  if (!info || info.alive) return false;
  rmSync(pidFile(dataDir), { force: true });
  return true;
}

function isPostgresProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive but someone else's; only /proc can tell whether it is postgres
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const cmdline = `/proc/${pid}/cmdline`;
  if (!existsSync('/proc/self')) return true; // no procfs (macOS): trust the live pid
  try {
    return /postgres/.test(readFileSync(cmdline, 'utf8').split('\0')[0] ?? '');
  } catch {
    return false;
  }
}
