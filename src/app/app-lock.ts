// Hand-written: proper-lockfile (not a dependency) judges staleness by mtime age, kept fresh by a timer, and stores
// no holder; this lock must name its holder (pid, command, since) and is stale exactly when that process is gone.
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import { isProcessRunning } from '../process/process-group.js';

/** Who holds the app's lock: what `.opsctl/deploy.lock` holds (README, "One at a time"). */
export interface LockHolder {
  pid: number;
  /** The command as typed after `opsctl` ("deploy", "scale"). */
  command: string;
  /** The whole command line, redacted by the caller. */
  commandLine: string;
  /** ISO time the lock was taken. */
  since: string;
  hostname: string;
  /** The holder's start time (/proc/<pid>/stat, clock ticks since boot), so a reused pid is told apart. */
  pidStart?: number;
}

export interface AppLock {
  file: string;
  /** The lock this one replaced: its holder had exited, or its pid now belongs to another program. */
  takenOver?: { holder: LockHolder; reason: string };
  /** Remove the lock (only while it is still ours). Safe to call more than once. */
  release(): void;
}

export function appLockFile(root: string): string {
  return join(root, '.opsctl', 'deploy.lock');
}

/**
 * Take the app's lock for `command` or throw exit 5 naming the holder, so one deploy/start/stop/restart/scale runs
 * per app at a time. A lock whose holder is gone (or whose pid was reused) is taken over; `takenOver` says so.
 */
export function acquireAppLock(root: string, command: string, commandLine: string): AppLock {
  const file = appLockFile(root);
  try {
    mkdirSync(join(root, '.opsctl'), { recursive: true });
  } catch (err) {
    throw unwritable(file, err);
  }
  const me: LockHolder = {
    pid: process.pid,
    command,
    commandLine,
    since: new Date().toISOString(),
    hostname: hostname(),
    pidStart: procStartTime(process.pid),
  };
  let takenOver: AppLock['takenOver'];
  for (let attempt = 0; attempt < 5; attempt++) {
    let created: boolean;
    try {
      created = tryCreate(file, me);
    } catch (err) {
      throw unwritable(file, err);
    }
    if (created) {
      return { file, takenOver, release: () => releaseIfOurs(file, me) };
    }
    const holder = readHolder(file);
    if (!holder) continue; // released meanwhile
    const reason = staleReason(holder);
    if (!reason) throw lockedError(file, holder);
    if (removeIfUnchanged(file, holder)) takenOver = { holder, reason };
  }
  throw new OpsError('APP_LOCK', `Could not take the app's lock ${file}: other opsctl runs keep taking it.`, {
    hint: 'Run the command again.',
    exitCode: ExitCode.locked,
  });
}

/** Who holds the app's lock now (a lock whose holder is gone is none), for `status` (README, "One at a time"). */
export function liveLockHolder(root: string): LockHolder | undefined {
  const holder = readHolder(appLockFile(root));
  return holder && !staleReason(holder) ? holder : undefined;
}

/** The holder's wording for messages: `pid 1234, "opsctl deploy", since 16:40:12`. */
export function describeHolder(holder: LockHolder): string {
  if (holder.pid <= 0) return 'an unreadable lock file';
  const since = new Date(holder.since);
  const time = since.toTimeString().slice(0, 8);
  const day = since.toDateString() === new Date().toDateString() ? '' : `${since.toLocaleDateString('sv-SE')} `;
  const host = holder.hostname === hostname() ? '' : ` on ${holder.hostname}`;
  return `pid ${holder.pid}${host}, "${holder.commandLine}", since ${day}${time}`;
}

/** Written whole, then linked into place: the lock file never exists half-written, and link fails if it exists. */
function tryCreate(file: string, me: LockHolder): boolean {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(me)}\n`, { mode: 0o600 });
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

function readHolder(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const holder = JSON.parse(text) as LockHolder;
    if (typeof holder.pid === 'number' && typeof holder.since === 'string') return holder;
  } catch {
    // not ours to read: written by something else
  }
  return { pid: 0, command: '?', commandLine: 'unreadable lock file', since: new Date(0).toISOString(), hostname: '' };
}

/** Why the holder no longer holds the lock, or undefined while it does. */
function staleReason(holder: LockHolder): string | undefined {
  if (holder.pid <= 0) return 'its lock file was unreadable';
  // a pid on another machine (a shared disk) cannot be checked: it holds the lock until removed by hand
  if (holder.hostname && holder.hostname !== hostname()) return undefined;
  if (!isProcessRunning(holder.pid)) return `pid ${holder.pid} is no longer running`;
  const start = procStartTime(holder.pid);
  if (holder.pidStart !== undefined && start !== undefined && start !== holder.pidStart) {
    return `pid ${holder.pid} now belongs to another process`;
  }
  if (holder.pidStart === undefined) {
    const cmdline = readProc(holder.pid, 'cmdline');
    if (cmdline !== undefined && !cmdline.includes('opsctl')) return `pid ${holder.pid} now belongs to another program`;
  }
  return undefined;
}

/**
 * Move the stale lock aside (rename is atomic: of two takers, one wins), then check it is the lock judged stale; a
 * fresh lock another taker linked meanwhile is put back.
 */
function removeIfUnchanged(file: string, stale: LockHolder): boolean {
  const aside = `${file}.${process.pid}.stale`;
  try {
    renameSync(file, aside);
  } catch {
    return false; // another taker moved it first
  }
  const moved = readHolder(aside);
  const same = moved?.pid === stale.pid && moved.since === stale.since;
  if (!same) {
    try {
      linkSync(aside, file);
    } catch {
      // a third run took the lock meanwhile; the one moved aside had just been taken and loses it
    }
  }
  rmSync(aside, { force: true });
  return same;
}

function releaseIfOurs(file: string, me: LockHolder): void {
  const holder = readHolder(file);
  if (holder?.pid === me.pid && holder.since === me.since) rmSync(file, { force: true });
}

function unwritable(file: string, cause: unknown): OpsError {
  const code = (cause as NodeJS.ErrnoException).code ?? String(cause);
  return new OpsError('APP_LOCK_UNWRITABLE', `Cannot write the app's lock ${file} (${code}); nothing was changed.`, {
    hint: `Make ${join(file, '..')} a folder this user can write to.`,
    exitCode: ExitCode.failed,
    cause,
  });
}

function lockedError(file: string, holder: LockHolder): OpsError {
  return new OpsError(
    'APP_LOCKED',
    `Another opsctl ${holder.command} is running on this app (${describeHolder(holder)}).`,
    {
      hint: `Wait for it to finish, then run this again. Nothing was changed. The lock is ${file}; it is taken over by the next run once pid ${holder.pid} has exited.`,
      exitCode: ExitCode.locked,
      details: {
        holder: {
          pid: holder.pid,
          command: holder.command,
          commandLine: holder.commandLine,
          since: holder.since,
          hostname: holder.hostname,
        },
      },
    },
  );
}

/** Field 22 of /proc/<pid>/stat (start time since boot), or undefined off Linux or when the process is gone. */
function procStartTime(pid: number): number | undefined {
  const stat = readProc(pid, 'stat');
  if (!stat) return undefined;
  const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  return Number.isFinite(value) ? value : undefined;
}

function readProc(pid: number, name: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return undefined;
  }
}
