import type pg from 'pg';
import type { StateTable } from './state.js';

/** What a dry run would change in the schema: objects that would appear and disappear. */
export interface SchemaChanges {
  /** e.g. `table public.orders`, `column public.orders.status text`, `index public.orders_status_idx` */
  created: string[];
  dropped: string[];
}

const OBJECTS_SQL = `
  with rels as (
    select c.oid, c.relname, c.relkind, n.nspname
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'
       and c.relkind in ('r', 'p', 'v', 'm', 'i', 'S')
       and c.oid is distinct from to_regclass($1)
       and not exists (select 1 from pg_index i where i.indexrelid = c.oid and i.indrelid = to_regclass($1)))
  select format('%s %I.%I', case relkind when 'r' then 'table' when 'p' then 'table' when 'v' then 'view'
                 when 'm' then 'materialized view' when 'i' then 'index' else 'sequence' end, nspname, relname) as obj
    from rels
  union all
  select format('column %I.%I.%I %s', r.nspname, r.relname, a.attname, format_type(a.atttypid, a.atttypmod))
    from rels r join pg_attribute a on a.attrelid = r.oid
   where r.relkind in ('r', 'p', 'v', 'm') and a.attnum > 0 and not a.attisdropped`;

/** The user-visible schema objects (tables, views, indexes, sequences, columns with types), minus opsctl's state table. */
export async function readSchemaObjects(client: pg.Client, state: StateTable): Promise<Set<string>> {
  const { rows } = await client.query<{ obj: string }>(OBJECTS_SQL, [`"${state.schema}"."${state.table}"`]);
  return new Set(rows.map((r) => r.obj));
}

/** Compare two snapshots. A changed column type shows as the old one dropped and the new one created. */
export function diffSchema(before: Set<string>, after: Set<string>): SchemaChanges {
  return {
    created: [...after].filter((o) => !before.has(o)).sort(),
    dropped: [...before].filter((o) => !after.has(o)).sort(),
  };
}
