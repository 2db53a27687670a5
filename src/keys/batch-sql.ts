import type pg from 'pg';
import { OpsError } from '../errors.js';
import type { ColumnTarget } from './catalog.js';

/** One row of a batch: its primary key as text (one entry per key column) and the stored value. */
export interface BatchRow {
  key: string[];
  value: string;
}

/**
 * Read the next batch of non-NULL values after `after` (keyset pagination on the primary key: every batch is an index
 * range scan, however far into the table). Key values travel as text and are cast back to their types. Values are read
 * as text: a `char(n)` one would come back padded with spaces, and never equal itself in the compare-and-swap.
 */
export async function readBatch(
  client: pg.Client,
  target: ColumnTarget,
  after: string[] | undefined,
  limit: number,
): Promise<BatchRow[]> {
  const keys = target.key.map((k) => `t.${k.column}`);
  const params: unknown[] = [];
  let where = `t.${target.column} is not null`;
  if (after) {
    const casts = target.key.map((k, i) => {
      params.push(after[i]);
      return `$${i + 1}::${k.type}`;
    });
    where += ` and (${keys.join(', ')}) > (${casts.join(', ')})`;
  }
  params.push(limit);
  const { rows } = await client.query<{ k: string[]; v: string }>({
    text: `select array[${keys.map((k) => `${k}::text`).join(', ')}] as k, t.${target.column}::text as v
             from ${target.table} t where ${where} order by ${keys.join(', ')} limit $${params.length}`,
    values: params,
  });
  return rows.map((r) => ({ key: r.k, value: r.v }));
}

/**
 * Write new values with a compare-and-swap: a row is updated only if it still holds the value that was read, so a
 * value the app rewrote meanwhile is left as the app wrote it (a later pass picks it up). One statement per batch.
 * Returns the keys of the rows updated, joined as `keyOf` joins them.
 */
export async function writeBatch(
  client: pg.Client,
  target: ColumnTarget,
  rows: Array<{ key: string[]; old: string; next: string }>,
): Promise<Set<string>> {
  if (!rows.length) return new Set();
  const n = target.key.length;
  const arrays = target.key.map((_, i) => rows.map((r) => r.key[i]));
  const names = target.key.map((_, i) => `k${i}`);
  const placeholders = [...names.map((_, i) => `$${i + 1}::text[]`), `$${n + 1}::text[]`, `$${n + 2}::text[]`];
  const match = target.key.map((k, i) => `t.${k.column} = v.k${i}::${k.type}`).join(' and ');
  const { rows: updated } = await client.query<{ k: string[] }>({
    text: `update ${target.table} as t set ${target.column} = v.opsctl_new
             from unnest(${placeholders.join(', ')}) as v(${names.join(', ')}, opsctl_old, opsctl_new)
            where ${match} and t.${target.column} = v.opsctl_old
        returning array[${target.key.map((k) => `t.${k.column}::text`).join(', ')}] as k`,
    values: [...arrays, rows.map((r) => r.old), rows.map((r) => r.next)],
  });
  return new Set(updated.map((r) => keyOf(r.k)));
}

/** A row's key as one string (a map key). */
export function keyOf(key: string[]): string {
  return key.length === 1 ? key[0]! : JSON.stringify(key);
}

/** A sample of non-NULL values, for the checks before anything changes and for `keys status`. */
export async function readSample(client: pg.Client, target: ColumnTarget, limit: number): Promise<string[]> {
  const { rows } = await client.query<{ v: string }>({
    text: `select t.${target.column}::text as v from ${target.table} t where t.${target.column} is not null limit $1`,
    values: [limit],
  });
  return rows.map((r) => r.v);
}

/** Rows of the table, and how many hold a value (not NULL). */
export async function countRows(client: pg.Client, target: ColumnTarget): Promise<{ rows: number; stored: number }> {
  const { rows } = await client.query<{ rows: number; stored: number }>(
    `select count(*)::int as rows, count(${target.column})::int as stored from ${target.table}`,
  );
  return rows[0] ?? { rows: 0, stored: 0 };
}

/** A batch the database refused (a trigger, a constraint, a row lock held too long): said, not called a bug. */
export function explainWriteError(target: ColumnTarget, error: unknown): never {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) throw error;
  const locked = code === '55P03';
  throw new OpsError(
    'KEYS_WRITE',
    `${target.name}: writing a batch failed: ${(error as Error).message} (${code}). That batch was not written; the batches before it are under the new key.`,
    {
      cause: error,
      hint: `${locked ? 'A transaction of the app held row locks of the batch for 30 s: end it' : 'Fix what refused it (a trigger, a constraint on the table)'}, then run the same command again: it resumes.`,
    },
  );
}
