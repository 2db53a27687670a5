// Hand-written: umzug's own lock (FileLocker) is a file on one host and wraps a single command; runners on several
// hosts need PostgreSQL's advisory lock, held from before the state is read until the run ends.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { ExitCode, OpsError } from '../../errors.js';
import { describeHolder, type LockHolder, type LockSession } from './lock-holder.js';
import { noteLockTimeout } from './session.js';

export { describeHolder, type LockHolder, type LockSession };

/** Default `--lock-timeout`: how long a runner waits for another one to finish. */
export const DEFAULT_LOCK_TIMEOUT_MS = 60_000;
const POLL_MS = 100;
/** First key of the two-int advisory lock: "opsc", so opsctl's locks are recognisable in pg_locks. */
const LOCK_NAMESPACE = 0x6f707363;

/** The two int4 keys of the advisory lock for one state table (one lock per schema.table). */
export function lockKeys(schema: string, table: string): [number, number] {
  const digest = createHash('sha256').update(`${schema}.${table}`).digest();
  return [LOCK_NAMESPACE, digest.readUInt32BE(0) & 0x7fffffff];
}

/** Read who holds the lock now, or undefined if nobody does (or we may not see it). */
export async function readLockHolder(client: pg.Client, keys: [number, number]): Promise<LockHolder | undefined> {
  return readLockSession(client, keys);
}

/** The session holding the advisory lock `keys` in this database, with its state (`migrate unlock`). */
export async function readLockSession(client: pg.Client, keys: [number, number]): Promise<LockSession | undefined> {
  const { rows } = await client.query<{
    pid: number;
    application_name: string | null;
    backend_start: Date | null;
    client_addr: string | null;
    state: string | null;
    state_change: Date | null;
  }>(
    `select a.pid, a.application_name, a.backend_start, host(a.client_addr) as client_addr, a.state, a.state_change
       from pg_locks l join pg_stat_activity a on a.pid = l.pid
      where l.locktype = 'advisory' and l.granted and l.classid = $1 and l.objid = $2 and l.objsubid = 2
        and l.database = (select oid from pg_database where datname = current_database())`,
    keys,
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    pid: row.pid,
    applicationName: row.application_name,
    since: row.backend_start,
    clientAddr: row.client_addr,
    state: row.state,
    stateChange: row.state_change,
  };
}

export interface AcquireLockOptions {
  timeoutMs: number;
  /** Called once, when the lock is busy and we start waiting. */
  onWait?: (holder: LockHolder | undefined) => void;
  /** What the lock guards, for the error (default "migration": "The migration lock is held by ..."). */
  what?: string;
  /** The error's code (default MIGRATION_LOCKED). */
  code?: string;
  /** What the holder is doing, for the hint (default "migrating"). */
  doing?: string;
}

/**
 * Take the session-level advisory lock that serialises migration runners, polling `pg_try_advisory_lock`
 * until `timeoutMs`; then throw an exit-5 error naming the holder. Returns the release function.
 * Once it is taken, the session's `lock_timeout` is what is left of `timeoutMs`, so waiting for the state
 * table or a table a migration alters never takes the whole run past the budget.
 * A session lock (not a transaction lock) because each migration commits its own transaction under it;
 * if the process dies, PostgreSQL releases it with the session.
 */
export async function acquireMigrationLock(
  client: pg.Client,
  keys: [number, number],
  options: AcquireLockOptions,
): Promise<() => Promise<void>> {
  const deadline = Date.now() + options.timeoutMs;
  let waiting = false;
  for (;;) {
    // the same round trip gives the table locks of the run what is left of the budget (README, "`opsctl migrate`"),
    // and lifts the session's statement bound: a migration may rightly run for an hour (an index build)
    const lockTimeoutMs = Math.max(1, deadline - Date.now());
    const { rows } = await client.query<{ ok: boolean }>(
      `select pg_try_advisory_lock($1, $2) as ok, set_config('lock_timeout', $3, false),
              set_config('statement_timeout', '0', false)`,
      [...keys, `${lockTimeoutMs}ms`],
    );
    if (rows[0]?.ok) {
      noteLockTimeout(client, lockTimeoutMs);
      return async () => void (await client.query('select pg_advisory_unlock($1, $2)', keys));
    }
    if (!waiting) {
      waiting = true;
      options.onWait?.(await readLockHolder(client, keys));
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      const holder = await readLockHolder(client, keys);
      const what = options.what ?? 'migration';
      throw new OpsError(
        options.code ?? 'MIGRATION_LOCKED',
        `The ${what} lock is held by ${describeHolder(holder)}; gave up after ${options.timeoutMs} ms.`,
        {
          hint: holder
            ? `Another runner is ${options.doing ?? 'migrating'}: wait for it, or raise --lock-timeout. If it is stuck: select pg_terminate_backend(${holder.pid});`
            : 'Wait for the other runner to finish, or raise --lock-timeout.',
          exitCode: ExitCode.locked,
        },
      );
    }
    await sleep(Math.min(POLL_MS, left));
  }
}
