// Hand-written: no file-lock library is among the dependencies, and this needs only an O_EXCL create, the
// holder's pid, and a dead-holder check; PostgreSQL's own postmaster.pid only exists once pg_ctl has run.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExitCode, OpsError } from '../errors.js';
import { isProcessRunning } from '../process/process-group.js';

/** What the lock file holds: who is starting or stopping the cluster, and since when. */
interface LockOwner {
  pid: number;
  since: string;
  action: string;
}

export interface EmbeddedLockOptions {
  /** Give up after this long (exit 5). */
  timeoutMs: number;
  /** Said once, when another process holds the lock and we start waiting. */
  onWait?: (message: string) => void;
}

const POLL_MS = 200;
/** No start or stop holds the lock this long; an older lock's pid has been reused by another process. */
const MAX_HOLD_MS = 15 * 60_000;
/** A lock file still empty after this long was left by a process that died between creating and writing it. */
const UNWRITTEN_MS = 5_000;
/** The owner of a lock file not written yet: alive until its age says otherwise. */
const UNKNOWN_PID = 0;

export function embeddedLockFile(dir: string): string {
  return join(dir, 'start.lock');
}

/**
 * Run `work` holding `<dir>/start.lock`, so two `opsctl db start` (or a start and a stop) never work on the
 * cluster at once: the second waits for the first, then finds it running (README, "`opsctl db start|stop|status|url`").
 * A lock left by a process that died (its pid is gone, or reused: the lock is older than any start takes) is
 * taken over.
 */
export async function withEmbeddedLock<T>(
  dir: string,
  action: string,
  options: EmbeddedLockOptions,
  work: () => Promise<T>,
): Promise<T> {
  const file = embeddedLockFile(dir);
  const deadline = Date.now() + options.timeoutMs;
  const me: LockOwner = { pid: process.pid, since: new Date().toISOString(), action };
  let told = false;
  while (!tryCreate(file, me)) {
    const owner = readOwner(file);
    if (!owner || !isAlive(owner.pid) || Date.now() - Date.parse(owner.since) > MAX_HOLD_MS) {
      // re-read just before removing, so a lock another waiter has just taken over is left alone
      if (readOwner(file)?.since === owner?.since) rmSync(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) throw lockedError(file, owner, options.timeoutMs);
    if (!told) options.onWait?.(`Waiting for opsctl (pid ${owner.pid}), which is running \`db ${owner.action}\``);
    told = true;
    await sleep(POLL_MS);
  }
  try {
    return await work();
  } finally {
    if (readOwner(file)?.pid === process.pid) rmSync(file, { force: true });
  }
}

function tryCreate(file: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(owner));
  } finally {
    closeSync(fd);
  }
  return true;
}

function readOwner(file: string): LockOwner | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // released meanwhile
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    if (typeof owner.pid === 'number' && typeof owner.since === 'string') return owner;
  } catch {
    // created but not written yet; or left empty by a crash, which its age gives away
  }
  const modified = statSync(file, { throwIfNoEntry: false })?.mtime ?? new Date();
  return Date.now() - modified.getTime() > UNWRITTEN_MS
    ? undefined
    : { pid: UNKNOWN_PID, since: modified.toISOString(), action: 'start' };
}

function isAlive(pid: number): boolean {
  return pid === UNKNOWN_PID || isProcessRunning(pid);
}

function lockedError(file: string, owner: LockOwner, timeoutMs: number): OpsError {
  return new OpsError(
    'DB_START_LOCKED',
    `Another opsctl (pid ${owner.pid}, running \`db ${owner.action}\` since ${owner.since}) still holds ${file}; gave up after ${timeoutMs} ms.`,
    {
      hint: `Wait for it to finish. If no such process is running, delete ${file}.`,
      exitCode: ExitCode.locked,
    },
  );
}
