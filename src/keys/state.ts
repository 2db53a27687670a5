import pg from 'pg';
import { configError } from '../errors.js';
import type { ColumnTarget } from './catalog.js';

/** The state table of key rotations (README, "`opsctl keys`"): one row per column and run, resumed in place. */
export const STATE_TABLE = 'opsctl_key_rotations';

/** A rotation as the state table holds it: key fingerprints only, never a key. */
export interface RotationRow {
  id: number;
  column: string;
  fromKey: string;
  toKey: string;
  fromModule: string;
  toModule: string;
  startedAt: Date;
  finishedAt: Date | null;
  rows: number;
  rotated: number;
  skipped: number;
}

export interface RotationCounts {
  rows: number;
  rotated: number;
  skipped: number;
}

const table = (schema: string) => `${pg.escapeIdentifier(schema)}.${STATE_TABLE}`;

const SELECT = `select id::int, column_name as "column", from_key as "fromKey", to_key as "toKey",
  from_module as "fromModule", to_module as "toModule", started_at as "startedAt", finished_at as "finishedAt",
  rows::int, rotated::int, skipped::int`;

export async function ensureStateTable(client: pg.Client, schema: string): Promise<void> {
  await client.query(`create table if not exists ${table(schema)} (
    id bigserial primary key,
    column_name text not null,
    from_key text not null,
    to_key text not null,
    from_module text not null,
    to_module text not null,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    rows bigint not null default 0,
    rotated bigint not null default 0,
    skipped bigint not null default 0
  )`);
}

/**
 * The unfinished run of the same rotation (same column, keys and modules) to resume, or a new row. Returns its id and
 * whether it was resumed.
 */
export async function startRotationRow(
  client: pg.Client,
  schema: string,
  row: Pick<RotationRow, 'column' | 'fromKey' | 'toKey' | 'fromModule' | 'toModule'>,
): Promise<{ id: number; resumed: boolean }> {
  const values = [row.column, row.fromKey, row.toKey, row.fromModule, row.toModule];
  const open = await client.query<{ id: number }>(
    `select id::int from ${table(schema)} where column_name = $1 and from_key = $2 and to_key = $3
        and from_module = $4 and to_module = $5 and finished_at is null order by id desc limit 1`,
    values,
  );
  if (open.rows[0]) return { id: open.rows[0].id, resumed: true };
  const inserted = await client.query<{ id: number }>(
    `insert into ${table(schema)} (column_name, from_key, to_key, from_module, to_module)
     values ($1, $2, $3, $4, $5) returning id::int`,
    values,
  );
  return { id: inserted.rows[0]!.id, resumed: false };
}

/** Record progress (`finished` ends the run). Counts of a resumed run are this run's, from the start of the table. */
export async function recordRotation(
  client: pg.Client,
  schema: string,
  id: number,
  counts: RotationCounts,
  finished = false,
): Promise<void> {
  await client.query(
    `update ${table(schema)} set rows = $2, rotated = $3, skipped = $4${finished ? ', finished_at = now()' : ''} where id = $1`,
    [id, counts.rows, counts.rotated, counts.skipped],
  );
}

/** The newest finished rotation of each column, and any unfinished one (none when the table does not exist). */
export async function readLastRotations(
  client: pg.Client,
  schema: string,
): Promise<{ finished: Map<string, RotationRow>; unfinished: Map<string, RotationRow> }> {
  const finished = new Map<string, RotationRow>();
  const unfinished = new Map<string, RotationRow>();
  const exists = await client.query<{ t: string | null }>('select to_regclass($1)::text as t', [table(schema)]);
  if (!exists.rows[0]?.t) return { finished, unfinished };
  const { rows } = await client.query<RotationRow>(`${SELECT} from ${table(schema)} order by id`);
  for (const row of rows) (row.finishedAt ? finished : unfinished).set(row.column, row);
  return { finished, unfinished };
}

/**
 * The rotating role must update every column and create (or write) the state table: checked before anything changes
 * (and under --dry-run, which would otherwise promise a run that fails part-way). Exit 2 naming what it lacks.
 */
export async function verifyRotationPrivileges(
  client: pg.Client,
  schema: string,
  targets: ColumnTarget[],
): Promise<void> {
  const missing: string[] = [];
  const cannot: string[] = [];
  for (const target of targets) {
    const [, , column] = target.name.split('.');
    const { rows } = await client.query<{ ok: boolean }>(
      "select has_table_privilege($1, 'SELECT') and has_column_privilege($1, $2, 'UPDATE') as ok",
      [target.table, column],
    );
    if (!rows[0]?.ok) missing.push(target.name);
  }
  if (missing.length) cannot.push(`update ${missing.join(', ')}`);
  const { rows } = await client.query<{ user: string; exists: boolean; ok: boolean }>(
    `select current_user as user, to_regclass($1) is not null as exists,
            case when to_regclass($1) is null then has_schema_privilege($2, 'CREATE')
                 else has_table_privilege($1, 'SELECT, INSERT, UPDATE') end as ok`,
    [table(schema), schema],
  );
  const state = rows[0]!;
  if (!state.ok) cannot.push(`${state.exists ? 'write' : 'create'} ${schema}.${STATE_TABLE} (the rotation's state)`);
  if (!cannot.length) return;
  throw configError(
    `${state.user} cannot ${cannot.join(', nor ')}: nothing was changed.`,
    'Grant what it lacks (`grant update …`, `grant create on schema …`), or rotate as the owner of the tables in database.url or DATABASE_URL.',
  );
}
