// Hand-written: PostgreSQL bounds a lock wait (lock_timeout) but says neither which lock nor who holds it, and
// pg has no hook for a statement that waits; this watches a slow statement from a second session and asks.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { ExitCode, OpsError } from '../../errors.js';
import { describeHolder, type LockHolder } from './lock-holder.js';

/** What bounds a session: PostgreSQL's `lock_timeout` and `statement_timeout` (0: no bound). */
export interface SessionBounds {
  lockTimeoutMs: number;
  statementTimeoutMs: number;
}

/** What blocked a statement, read while it waited. */
interface Blocker {
  relation: string | null;
  holder: LockHolder;
}

interface Watch {
  lockTimeoutMs: number;
  /** A separate, short-lived session to look at the waiting one from. */
  connectSide: () => Promise<pg.Client>;
}

/** Look at a statement's blockers once it has run this long (sooner when the lock budget is shorter). */
const WATCH_AFTER_MS = 500;
const BLOCKER_POLL_MS = 100;
const LOCK_NOT_AVAILABLE = '55P03';
const QUERY_CANCELED = '57014';

const watches = new WeakMap<pg.Client, Watch>();

/** Set both bounds on the session (one round trip) and remember the lock budget for the watcher. */
export async function setSessionBounds(client: pg.Client, bounds: SessionBounds): Promise<void> {
  await client.query("select set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", [
    `${Math.max(0, Math.round(bounds.lockTimeoutMs))}ms`,
    `${Math.max(0, Math.round(bounds.statementTimeoutMs))}ms`,
  ]);
  noteLockTimeout(client, bounds.lockTimeoutMs);
}

/** Remember a `lock_timeout` set on the session by other means (the migration lock sets it with its own query). */
export function noteLockTimeout(client: pg.Client, lockTimeoutMs: number): void {
  const watch = watches.get(client);
  if (watch) watch.lockTimeoutMs = lockTimeoutMs;
}

/**
 * Make every statement of `client` that fails on a bound say why: past `lock_timeout` an exit-5 error naming
 * the lock and the session holding it (pid, application_name, since when); past `statement_timeout` an exit-4
 * error. A statement still running after a moment is looked at from a second session (`pg_blocking_pids`).
 */
export function explainBounds(client: pg.Client, connectSide: () => Promise<pg.Client>, lockTimeoutMs: number): void {
  const watch: Watch = { lockTimeoutMs, connectSide };
  watches.set(client, watch);
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const explained = (...args: unknown[]) => {
    const pending = query(...args);
    return isPromise(pending) ? watched(client, watch, pending) : pending;
  };
  Object.assign(client, { query: explained });
}

/** Watch one query sent by other means than `client.query(text)` (a submittable): see `explainBounds`. */
export function watchQuery<T>(client: pg.Client, pending: Promise<T>): Promise<T> {
  const watch = watches.get(client);
  return watch ? watched(client, watch, pending) : pending;
}

async function watched<T>(client: pg.Client, watch: Watch, pending: Promise<T>): Promise<T> {
  const started = performance.now();
  let lookup: Promise<Blocker | undefined> | undefined;
  const pid = (client as { processID?: number }).processID;
  const settled = { done: false };
  const timer = setTimeout(
    () => {
      if (pid) lookup = readBlocker(watch, pid, settled).catch(() => undefined);
    },
    Math.min(WATCH_AFTER_MS, watch.lockTimeoutMs / 4),
  );
  try {
    return await pending;
  } catch (err) {
    settled.done = true;
    const code = (err as { code?: string }).code;
    const waitedMs = Math.round(performance.now() - started);
    if (code === LOCK_NOT_AVAILABLE) throw lockTimeoutError(err, await lookup, waitedMs);
    if (code === QUERY_CANCELED && /statement timeout/i.test((err as Error).message))
      throw statementTimeoutError(err, waitedMs);
    throw err;
  } finally {
    settled.done = true;
    clearTimeout(timer);
  }
}

/** Ask who blocks `pid`, again every moment while the statement runs (it may start waiting later). */
async function readBlocker(watch: Watch, pid: number, settled: { done: boolean }): Promise<Blocker | undefined> {
  const side = await watch.connectSide();
  try {
    while (!settled.done) {
      const blocker = await queryBlocker(side, pid);
      if (blocker) return blocker;
      // a few looks within any one lock wait, without querying ten times a second through an hour-long index build
      await sleep(Math.max(BLOCKER_POLL_MS, Math.min(1000, watch.lockTimeoutMs / 4)));
    }
    return undefined;
  } finally {
    await side.end().catch(() => {});
  }
}

async function queryBlocker(side: pg.Client, pid: number): Promise<Blocker | undefined> {
  const { rows } = await side.query<{
    relation: string | null;
    pid: number;
    application_name: string | null;
    since: Date | null;
    client_addr: string | null;
  }>(
    `select (select l.relation::regclass::text from pg_locks l where l.pid = $1 and not l.granted limit 1) as relation,
              a.pid, a.application_name, coalesce(a.xact_start, a.backend_start) as since,
              host(a.client_addr) as client_addr
         from pg_stat_activity a
        where a.pid = any(pg_blocking_pids($1))
        order by a.xact_start nulls last
        limit 1`,
    [pid],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    relation: row.relation,
    holder: { pid: row.pid, applicationName: row.application_name, since: row.since, clientAddr: row.client_addr },
  };
}

function lockTimeoutError(cause: unknown, blocker: Blocker | undefined, waitedMs: number): OpsError {
  const what = blocker?.relation ? `a lock on ${blocker.relation}` : 'a lock';
  return new OpsError(
    'DB_LOCK_TIMEOUT',
    `Gave up after ${waitedMs} ms waiting for ${what}, held by ${describeHolder(blocker?.holder)}.`,
    {
      hint: blocker
        ? `Its transaction keeps the lock until it ends: wait for it, or raise the timeout. If it is stuck: select pg_terminate_backend(${blocker.holder.pid});`
        : 'Find the session holding it in pg_locks / pg_stat_activity, wait for it, or raise the timeout.',
      exitCode: ExitCode.locked,
      cause,
    },
  );
}

function statementTimeoutError(cause: unknown, waitedMs: number): OpsError {
  return new OpsError('DB_STATEMENT_TIMEOUT', `PostgreSQL did not finish a statement within ${waitedMs} ms.`, {
    hint: 'The server may be overloaded: look at pg_stat_activity, or raise the timeout.',
    exitCode: ExitCode.unreachable,
    cause,
  });
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}
