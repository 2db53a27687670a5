import type pg from 'pg';
import type { UmzugStorage } from 'umzug';
import { ExitCode, errorMessage, OpsError } from '../../errors.js';

/** A row of the state table (default `opsctl_migrations`). */
export interface AppliedRow {
  name: string;
  checksum: string;
  appliedAt: Date;
  durationMs: number;
}

/** Where the state lives: a schema and a table, both configurable. */
export interface StateTable {
  schema: string;
  table: string;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualified(state: StateTable): string {
  return `${quoteIdent(state.schema)}.${quoteIdent(state.table)}`;
}

/**
 * Create the schema and state table if needed. Call it under the migration lock (README, "Commands").
 * Existence is checked first: `create schema if not exists` still demands CREATE on the database, which an
 * application role often lacks even when everything already exists.
 * Says whether it created the table (then it holds no rows yet).
 */
export async function ensureStateTable(client: pg.Client, state: StateTable): Promise<{ created: boolean }> {
  const { rows } = await client.query<{ has_schema: boolean; has_table: boolean }>(
    'select to_regnamespace($1) is not null as has_schema, to_regclass($2) is not null as has_table',
    [quoteIdent(state.schema), qualified(state)],
  );
  if (rows[0]?.has_table) return { created: false };
  try {
    if (!rows[0]?.has_schema) await client.query(`create schema ${quoteIdent(state.schema)}`);
    await client.query(
      `create table ${qualified(state)} (
         name text primary key,
         checksum text not null,
         applied_at timestamptz not null default now(),
         duration_ms integer not null
       )`,
    );
    return { created: true };
  } catch (err) {
    throw new OpsError(
      'STATE_TABLE',
      `Could not create the state table ${state.schema}.${state.table}: ${errorMessage(err)}.`,
      {
        hint: `Grant the migration role CREATE on schema ${state.schema} (or create the table once as its owner), or set database.schema.`,
        exitCode: ExitCode.failed,
        cause: err,
      },
    );
  }
}

/** The rows of the state table, or none when it does not exist yet (reading never creates it). */
export async function readAppliedRows(client: pg.Client, state: StateTable): Promise<AppliedRow[]> {
  const { rows: exists } = await client.query<{ t: string | null }>('select to_regclass($1)::text as t', [
    qualified(state),
  ]);
  if (!exists[0]?.t) return [];
  const { rows } = await client.query<{ name: string; checksum: string; applied_at: Date; duration_ms: number }>(
    `select name, checksum, applied_at, duration_ms from ${qualified(state)} order by name`,
  );
  return rows.map((r) => ({ name: r.name, checksum: r.checksum, appliedAt: r.applied_at, durationMs: r.duration_ms }));
}

/**
 * Rewrite state rows that hold the whole-file checksum an older opsctl stored for a single-file SQL migration to
 * the up-part checksum, so editing the down part later is not drift. Only rows matching the file as it is now
 * are rewritten (a drifted one stays drifted). Returns the rows as they are after the rewrite. Under the lock.
 */
export async function upgradeLegacyChecksums(
  client: pg.Client,
  state: StateTable,
  sources: Array<{ name: string; checksum: string; legacyChecksum?: string }>,
  rows: AppliedRow[],
): Promise<AppliedRow[]> {
  const byName = new Map(sources.map((s) => [s.name, s]));
  const stale = rows.filter(
    (r) => r.checksum !== byName.get(r.name)?.checksum && r.checksum === byName.get(r.name)?.legacyChecksum,
  );
  if (!stale.length) return rows;
  await client.query(
    `update ${qualified(state)} t set checksum = u.checksum
       from unnest($1::text[], $2::text[], $3::text[]) as u(name, legacy, checksum)
      where t.name = u.name and t.checksum = u.legacy`,
    [stale.map((r) => r.name), stale.map((r) => r.checksum), stale.map((r) => byName.get(r.name)!.checksum)],
  );
  const upgraded = new Set(stale.map((r) => r.name));
  return rows.map((r) => (upgraded.has(r.name) ? { ...r, checksum: byName.get(r.name)!.checksum } : r));
}

/** Write (applied) or delete (pending) a migration's state row without running it (`migrate mark`). */
export async function recordState(
  client: pg.Client,
  state: StateTable,
  source: { name: string; checksum: string },
  as: 'applied' | 'pending',
): Promise<void> {
  if (as === 'applied')
    await client.query(`insert into ${qualified(state)} (name, checksum, duration_ms) values ($1, $2, 0)`, [
      source.name,
      source.checksum,
    ]);
  else await client.query(`delete from ${qualified(state)} where name = $1`, [source.name]);
}

/** The step being run: what the storage needs to write its state row and end the transaction. */
interface CurrentStep {
  name: string;
  checksum: string;
  startedAt: number;
  /** True when the step opened its own transaction, which the storage commits after writing the row. */
  transaction: boolean;
  /** The step already wrote (or deleted) the state row and committed, in the same query as its SQL. */
  logged?: boolean;
}

/**
 * The umzug context of one run: a connected client holding the migration lock, and where the state lives.
 * Migrations themselves receive only `{ client }`.
 */
export interface Session {
  client: pg.Client;
  state: StateTable;
  /** Everything runs inside one transaction that is rolled back at the end. */
  dryRun: boolean;
  /** Set by a migration's step when it starts; the storage uses and clears it. */
  current?: CurrentStep;
  /** Dry run: migrations marked no-transaction, which cannot run inside the dry run's transaction. */
  notRun: string[];
}

/**
 * umzug's storage over the state table. umzug calls a migration's `up` and then `logMigration`. A plain SQL step
 * sends its state row and `commit` in the same query as its SQL (one round trip) and marks the step `logged`;
 * any other step left its transaction open, so the row is written through the same client inside it and the
 * storage commits. Either way the migration and its state row commit together or not at all (README, "Commands").
 *
 * `applied` is the state as read under the migration lock when the run was opened: nothing else can change it
 * while the lock is held, so umzug's `executed` answers from it (kept up to date as rows are written and removed)
 * instead of reading the table again, which would be two more round trips before the first migration.
 */
export function stateTableStorage(applied: Iterable<string>): UmzugStorage<Session> {
  // a Set is shared with the migrator, which keeps it current when `migrate mark` records a row
  const names = applied instanceof Set ? (applied as Set<string>) : new Set(applied);
  return {
    async executed() {
      return [...names];
    },
    async logMigration({ name, context }) {
      const step = context.current!;
      const durationMs = Math.round(performance.now() - step.startedAt);
      await finish(context, async (commit) => {
        // with the commit: the row and the commit in one round trip, so a simple query with escaped literals
        if (commit)
          await context.client.query(`${stateRowStatement(context, 'up', name, step.checksum, durationMs)}; commit`);
        else
          await context.client.query(
            `insert into ${qualified(context.state)} (name, checksum, duration_ms) values ($1, $2, $3)`,
            [name, step.checksum, durationMs],
          );
      });
      names.add(name);
    },
    async unlogMigration({ name, context }) {
      await finish(context, async (commit) => {
        if (commit) await context.client.query(`${stateRowStatement(context, 'down', name)}; commit`);
        else await context.client.query(`delete from ${qualified(context.state)} where name = $1`, [name]);
      });
      names.delete(name);
    },
  };
}

/**
 * The statement that records (up) or removes (down) a migration's state row, with its values as escaped literals
 * so it can travel in a simple query with other statements. Without `durationMs` the server measures it: the
 * time since its transaction began (the migration's `begin`).
 */
export function stateRowStatement(
  session: Session,
  direction: 'up' | 'down',
  name: string,
  checksum = '',
  durationMs?: number,
): string {
  const { client, state } = session;
  if (direction === 'down') return `delete from ${qualified(state)} where name = ${client.escapeLiteral(name)}`;
  const duration = durationMs ?? '(extract(epoch from clock_timestamp() - now()) * 1000)::integer';
  return `insert into ${qualified(state)} (name, checksum, duration_ms) values (${literals(client, name, checksum)}, ${duration})`;
}

function literals(client: pg.Client, ...values: string[]): string {
  return values.map((v) => client.escapeLiteral(v)).join(', ');
}

/** Write the state row and (when the step opened a transaction) commit; on failure roll back so neither remains. */
async function finish(session: Session, write: (commit: boolean) => Promise<void>): Promise<void> {
  if (session.current?.logged) {
    session.current = undefined;
    return;
  }
  const owned = session.current?.transaction === true;
  try {
    await write(owned);
  } catch (err) {
    if (owned) await session.client.query('rollback').catch(() => {});
    throw err;
  } finally {
    session.current = undefined;
  }
}
