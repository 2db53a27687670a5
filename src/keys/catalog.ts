import pg from 'pg';
import { configError, OpsError } from '../errors.js';

/** An encrypted column, resolved in the catalog: its table, type and the table's primary key. */
export interface ColumnTarget {
  /** As the config names it: `orders.card_token` or `sales.orders.card_token`. */
  spec: string;
  /** `schema.table.column`, as the state table and the output name it. */
  name: string;
  /** `"schema"."table"`, quoted. */
  table: string;
  /** `"column"`, quoted. */
  column: string;
  /** The primary key's columns, quoted, with their types (for casts). */
  key: Array<{ column: string; type: string }>;
  /** The column's type as PostgreSQL prints it (`character varying(80)`). */
  type: string;
  /** The characters a value may hold (`varchar(n)`, `char(n)`); undefined when unbounded. */
  maxLength?: number;
  /** The role row-level security applies to (it may hide rows from it); undefined when it sees every row. */
  rowSecurity?: string;
}

/** A rotation must see every row: one its role cannot see would be left under the old key, and "done" said. */
export function verifyEveryRowVisible(target: ColumnTarget): void {
  if (!target.rowSecurity) return;
  const [schema, table] = target.name.split('.');
  throw configError(
    `${schema}.${table} has row-level security that applies to ${target.rowSecurity}: rows its policies hide would be left under the old key.`,
    'Rotate as a role that bypasses it (BYPASSRLS, a superuser, or the owner when it is not FORCEd) in database.url or DATABASE_URL.',
  );
}

const q = (name: string) => pg.escapeIdentifier(name);
/** Relations whose rows cannot be updated one by one by primary key (pg_class.relkind). */
const VIEW_KINDS: Record<string, string> = { v: 'view', m: 'materialized view', f: 'foreign table' };

/** Every configured column, each once: two spellings of one column would rotate it twice under one lock. */
export async function readColumnTargets(client: pg.Client, specs: string[]): Promise<ColumnTarget[]> {
  const targets: ColumnTarget[] = [];
  for (const spec of specs) {
    const target = await readColumnTarget(client, spec);
    const twin = targets.find((t) => t.name === target.name);
    if (twin) throw configError(`encryption.columns names ${target.name} twice (${twin.spec}, ${spec}).`);
    targets.push(target);
  }
  return targets;
}

/** Split `schema.table.column` / `table.column` (the config schema checked the shape). */
export function parseColumnSpec(spec: string): { schema?: string; table: string; column: string } {
  const parts = spec.split('.');
  if (parts.length === 3) return { schema: parts[0], table: parts[1]!, column: parts[2]! };
  if (parts.length === 2) return { table: parts[0]!, column: parts[1]! };
  throw configError(`encryption.columns: "${spec}" is not table.column or schema.table.column.`);
}

/**
 * Find the column and its table's primary key in the catalog. Exit 2 when the table or column does not exist, the
 * column is not text, or the table has no primary key (rows could not be told apart to update them one by one).
 */
export async function readColumnTarget(client: pg.Client, spec: string): Promise<ColumnTarget> {
  const { schema, table, column } = parseColumnSpec(spec);
  const relation = schema ? `${q(schema)}.${q(table)}` : q(table);
  const { rows } = await client.query<{
    oid: number | null;
    schema: string;
    name: string;
    kind: string;
    hidden: boolean;
    user: string;
  }>(
    // row-level security applies unless the role bypasses it, or owns the table and it is not forced
    `select c.oid::int as oid, n.nspname as schema, c.relname as name, c.relkind as kind, current_user as user,
            c.relrowsecurity and not (r.rolsuper or r.rolbypassrls)
              and (c.relforcerowsecurity or not pg_has_role(current_user, c.relowner, 'USAGE')) as hidden
       from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_roles r on r.rolname = current_user
      where c.oid = to_regclass($1)`,
    [relation],
  );
  const rel = rows[0];
  if (!rel?.oid) {
    throw configError(
      `encryption.columns: table ${schema ? `${schema}.` : ''}${table} does not exist.`,
      'Fix encryption.columns, or run the migrations first.',
    );
  }
  if (VIEW_KINDS[rel.kind]) {
    throw configError(
      `encryption.columns: ${rel.schema}.${rel.name} is a ${VIEW_KINDS[rel.kind]}, not a table: name the table it reads.`,
    );
  }
  const attrs = await client.query<{
    name: string;
    type: string;
    category: string;
    is_key: boolean;
    key_pos: number | null;
    max_length: number | null;
  }>(
    `select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, t.typcategory as category,
            case when t.typname in ('varchar', 'bpchar') and a.atttypmod > 4 then a.atttypmod - 4 end as max_length,
            array_position(i.indkey::int2[], a.attnum) is not null as is_key,
            array_position(i.indkey::int2[], a.attnum) as key_pos
       from pg_attribute a join pg_type t on t.oid = a.atttypid
       left join pg_index i on i.indrelid = a.attrelid and i.indisprimary
      where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [rel.oid],
  );
  const name = `${rel.schema}.${rel.name}.${column}`;
  const col = attrs.rows.find((a) => a.name === column);
  if (!col) {
    const text = attrs.rows.filter((a) => a.category === 'S').map((a) => a.name);
    throw configError(
      `encryption.columns: ${rel.schema}.${rel.name} has no column "${column}".`,
      `Its text columns: ${text.join(', ') || 'none'} (all columns: ${attrs.rows.map((a) => a.name).join(', ')}). Fix encryption.columns.`,
    );
  }
  if (col.category !== 'S') {
    throw configError(
      `encryption.columns: ${name} is ${col.type}, not a text column.`,
      'opsctl keys rotates text columns (what encryptData returns).',
    );
  }
  const key = attrs.rows.filter((a) => a.is_key).sort((a, b) => (a.key_pos ?? 0) - (b.key_pos ?? 0));
  if (!key.length) {
    throw configError(
      `${rel.schema}.${rel.name} has no primary key, so its rows cannot be re-encrypted one by one safely.`,
      'Add a primary key to the table (or rotate it with your own script).',
    );
  }
  if (col.is_key) throw configError(`encryption.columns: ${name} is part of the primary key.`);
  return {
    spec,
    name,
    table: `${q(rel.schema)}.${q(rel.name)}`,
    column: q(column),
    key: key.map((k) => ({ column: q(k.name), type: k.type })),
    type: col.type,
    maxLength: col.max_length ?? undefined,
    rowSecurity: rel.hidden ? rel.user : undefined,
  };
}

/**
 * The new values must fit the column (`varchar(n)`, `char(n)`): a new module's may be longer. Checked on the sample
 * before anything changes, and on every batch before it is written (PostgreSQL would refuse the batch mid-run).
 */
export function verifyFits(target: ColumnTarget, sealed: (string | null)[], after = ''): void {
  if (target.maxLength === undefined) return;
  const longest = Math.max(0, ...sealed.map((v) => (v == null ? 0 : [...v].length)));
  if (longest <= target.maxLength) return;
  const [schema, table, column] = target.name.split('.').map((n) => (/^[a-z_][a-z0-9_]*$/.test(n) ? n : q(n)));
  throw new OpsError(
    'KEYS_TOO_LONG',
    `${target.name} holds at most ${target.maxLength} characters (${target.type}); the new module's values of it are up to ${longest}.${after}`,
    {
      hint: `Widen the column first (\`alter table ${schema}.${table} alter column ${column} type text\`, in a migration), then run again.`,
    },
  );
}
