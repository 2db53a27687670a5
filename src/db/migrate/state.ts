import type pg from 'pg';
import { errorMessage, OpsError } from '../../errors.js';
import type { MigrationSource } from './sources.js';

/** A row of the state table (default `opsctl_migrations`). */
export interface AppliedRow {
  name: string;
  checksum: string;
  appliedAt: Date;
  durationMs: number;
}

/** What `migrate status` reports (README, "JSON shapes"). */
export interface MigrationStatus {
  /** Every applied migration, in file-name order, including drifted and missing ones. */
  executed: Array<{ name: string; appliedAt: string }>;
  pending: string[];
  /** Applied, but the file changed since. */
  drifted: string[];
  /** Applied, but the file is gone. */
  missing: string[];
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
 */
export async function ensureStateTable(client: pg.Client, state: StateTable): Promise<void> {
  const { rows } = await client.query<{ has_schema: boolean; has_table: boolean }>(
    'select to_regnamespace($1) is not null as has_schema, to_regclass($2) is not null as has_table',
    [quoteIdent(state.schema), qualified(state)],
  );
  if (rows[0]?.has_table) return;
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
  } catch (err) {
    throw new OpsError(
      'STATE_TABLE',
      `Could not create the state table ${state.schema}.${state.table}: ${errorMessage(err)}.`,
      {
        hint: `Grant the migration role CREATE on schema ${state.schema} (or create the table once as its owner), or set database.schema.`,
        exitCode: 3,
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

/** Compare the folder with the state table. Pure: no I/O. */
export function compareState(sources: MigrationSource[], rows: AppliedRow[]): MigrationStatus {
  const byName = new Map(sources.map((s) => [s.name, s]));
  const applied = new Set(rows.map((r) => r.name));
  return {
    executed: rows.map((r) => ({ name: r.name, appliedAt: r.appliedAt.toISOString() })),
    pending: sources.filter((s) => !applied.has(s.name)).map((s) => s.name),
    drifted: rows.filter((r) => byName.has(r.name) && byName.get(r.name)!.checksum !== r.checksum).map((r) => r.name),
    missing: rows.filter((r) => !byName.has(r.name)).map((r) => r.name),
  };
}

/** True when status shows something an operator must act on (`--exit-code`, doctor). */
export function hasFindings(status: MigrationStatus): boolean {
  return status.pending.length + status.drifted.length + status.missing.length > 0;
}
