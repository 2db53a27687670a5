import { hostname } from 'node:os';
import type pg from 'pg';
import { ExitCode, OpsError } from '../../errors.js';
import { readLockSession } from './lock.js';
import { describeHolder, type LockSession } from './lock-holder.js';

export { type LockSession, readLockSession };

import { isRunnerOnThisHost, parseRunnerName } from './runner-name.js';

/** How long ending the holder's session waits for its backend to be gone (PostgreSQL 14+). */
const TERMINATE_WAIT_MS = 5000;

/**
 * What `migrate unlock` makes of the holder (README, "`migrate unlock`"):
 * - `gone`: an opsctl runner on this host whose process no longer exists: its session is left over (a half-open
 *   connection, a proxy keeping it), and ending it is safe;
 * - `alive`: an opsctl runner on this host whose process still runs;
 * - `active`: the session is running a statement right now (whoever it is);
 * - `unknown`: an opsctl runner on another host (or from an opsctl that did not record its pid): opsctl cannot
 *   look at its process; released only with `force`;
 * - `foreign`: not an opsctl migration session at all: never ended by opsctl.
 */
export type HolderVerdict = 'gone' | 'alive' | 'active' | 'unknown' | 'foreign';

export interface LockInspection {
  holder: LockSession;
  verdict: HolderVerdict;
  /** Why, for people: `opsctl pid 4242 on build-7 is no longer running`. */
  reason: string;
}

/** Whether a process exists on this machine (EPERM: it does, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Judge a holder (pure but for the injected process check), see `HolderVerdict`. */
export function judgeHolder(
  holder: LockSession,
  env: { host?: string; isAlive?: (pid: number) => boolean } = {},
): LockInspection {
  const host = env.host ?? hostname();
  const isAlive = env.isAlive ?? isProcessAlive;
  const runner = parseRunnerName(holder.applicationName);
  if (!runner)
    return { holder, verdict: 'foreign', reason: 'it is not an opsctl migration session (by its application_name)' };
  if (holder.state === 'active')
    return { holder, verdict: 'active', reason: 'its session is running a statement right now' };
  if (!isRunnerOnThisHost(holder.applicationName, host))
    return {
      holder,
      verdict: 'unknown',
      reason: `its runner, opsctl pid ${runner.pid} on ${runner.host}, is on another host: opsctl cannot see whether it still runs`,
    };
  if (isAlive(runner.pid))
    return { holder, verdict: 'alive', reason: `its runner, opsctl pid ${runner.pid} on this host, is still running` };
  return { holder, verdict: 'gone', reason: `its runner, opsctl pid ${runner.pid} on this host, is no longer running` };
}

/** `pid 123 (application_name "...", since ..., from ...), idle since 2026-...` */
export function describeLockSession(holder: LockSession): string {
  const state = holder.state
    ? `, ${holder.state}${holder.stateChange ? ` since ${holder.stateChange.toISOString()}` : ''}`
    : '';
  return `${describeHolder(holder)}${state}`;
}

/**
 * Refuse to end a holder that is not `gone` (nor `unknown` with `force`): exit 5 naming it and why, with what the
 * operator can do.
 */
export function verifyReleasable(inspection: LockInspection, force: boolean): void {
  const { verdict, holder, reason } = inspection;
  if (verdict === 'gone' || (verdict === 'unknown' && force)) return;
  const hints: Record<HolderVerdict, string> = {
    gone: '',
    alive: 'Wait for it to finish (`opsctl migrate` waits with --lock-timeout), or stop that process first.',
    active: `Wait for the statement to finish; if it is stuck, cancel it first: select pg_cancel_backend(${holder.pid});`,
    unknown:
      'Check that runner on its host; if that host or process is gone, run `opsctl migrate unlock --force` to end the session.',
    foreign: `opsctl ends only its own sessions. If you know it is stuck: select pg_terminate_backend(${holder.pid});`,
  };
  throw new OpsError(
    'MIGRATION_LOCK_HELD',
    `The migration lock is held by ${describeLockSession(holder)}: not released, ${reason}.`,
    { hint: hints[verdict], exitCode: ExitCode.locked },
  );
}

/**
 * End the holder's session, which releases its session-level advisory lock, and check the lock is free. Ending
 * another role's session needs pg_signal_backend (or superuser): refused, it is exit 3 saying so.
 */
export async function endLockSession(client: pg.Client, holder: LockSession, keys: [number, number]): Promise<void> {
  let ended: boolean;
  try {
    const { rows } = await client
      .query<{ ok: boolean }>(`select pg_terminate_backend($1, ${TERMINATE_WAIT_MS}) as ok`, [holder.pid])
      .catch(() => client.query<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [holder.pid]));
    ended = Boolean(rows[0]?.ok);
  } catch (err) {
    throw new OpsError('MIGRATION_UNLOCK', `Could not end session pid ${holder.pid}: ${(err as Error).message}.`, {
      hint: "Ending another role's session needs the pg_signal_backend role (or a superuser): run unlock as the migrating role, or ask an administrator.",
      exitCode: ExitCode.failed,
      cause: err,
    });
  }
  const still = await readLockSession(client, keys);
  if (!ended || still?.pid === holder.pid)
    throw new OpsError('MIGRATION_UNLOCK', `Session pid ${holder.pid} still holds the migration lock.`, {
      hint: `Check pg_stat_activity for pid ${holder.pid}; an administrator can end it with select pg_terminate_backend(${holder.pid});`,
      exitCode: ExitCode.failed,
    });
}
