import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { cliEnv, createDatabase, makeApp, type TestDatabase, testServers, useServer } from './migrate-setup.js';

const FORMATS = resolve(import.meta.dirname, '../fixtures/migrations/formats');
const ALL = readdirSync(FORMATS)
  .map((f) => f.replace(/(\.(up|down))?\.(sql|js|cjs|mjs|ts)$/, ''))
  .filter((n, i, all) => all.indexOf(n) === i)
  .sort();

describe.each(testServers())('migrate: formats, ordering, status ($label)', (server) => {
  const serverUrl = useServer(server);
  let db: TestDatabase;
  let app: ReturnType<typeof makeApp>;
  const run = (...args: string[]) => opsctl(['-C', app.root, ...args], { env: cliEnv(db.url) });
  const json = async (...args: string[]) => {
    const res = await run(...args, '--json');
    return { ...res, doc: JSON.parse(res.stdout) as Record<string, unknown> };
  };

  beforeEach(async () => {
    db = await createDatabase(serverUrl());
    app = makeApp({});
    cpSync(FORMATS, join(app.root, 'migrations'), { recursive: true });
  });
  afterEach(async () => {
    await db.drop();
    app.remove();
  });

  it('applies every source format in name order, then reverts them all', async () => {
    const before = await json('migrate', 'status');
    expect(before.exitCode).toBe(0);
    expect(before.doc).toMatchObject({
      command: 'migrate status',
      ok: true,
      exitCode: 0,
      executed: [],
      pending: ALL,
      drifted: [],
      missing: [],
    });
    expect(typeof before.doc.durationMs).toBe('number');
    expect(await db.applied()).toEqual([]); // status never creates the state table

    const up = await json('migrate');
    expect(up.stderr).toBe('');
    expect(up.doc).toMatchObject({ command: 'migrate', ok: true, exitCode: 0, applied: ALL });
    for (const table of ['products', 'orders', 'customers', 'invoices', 'shipments'])
      expect(await db.hasTable(table)).toBe(true);
    const [column] = await db.query(
      "select column_default from information_schema.columns where table_name = 'orders' and column_name = 'status'",
    );
    expect(column).toBeDefined();
    expect(await db.query("select 1 from pg_indexes where indexname = 'orders_status_idx'")).toHaveLength(1);
    const rows = await db.query<{ name: string; checksum: string; duration_ms: number }>(
      'select name, checksum, duration_ms from opsctl_migrations order by applied_at, name',
    );
    expect(rows.map((r) => r.name)).toEqual(ALL);
    for (const r of rows) expect(r.checksum).toMatch(/^[0-9a-f]{64}$/);

    const after = await json('migrate', 'status', '--exit-code');
    expect(after.exitCode).toBe(0);
    expect((after.doc.executed as Array<{ name: string; appliedAt: string }>).map((e) => e.name)).toEqual(ALL);
    for (const e of after.doc.executed as Array<{ appliedAt: string }>)
      expect(Number.isNaN(Date.parse(e.appliedAt))).toBe(false);
    expect(after.doc.pending).toEqual([]);

    const down = await json('rollback', '--all', '--yes');
    expect(down.doc).toMatchObject({ command: 'rollback', ok: true, exitCode: 0, reverted: [...ALL].reverse() });
    for (const table of ['products', 'orders', 'customers', 'invoices', 'shipments'])
      expect(await db.hasTable(table)).toBe(false);
    expect(await db.applied()).toEqual([]);
  });

  it('--step and --to select how far to go, up and down', async () => {
    expect((await json('migrate', '--step', '2')).doc.applied).toEqual(ALL.slice(0, 2));
    expect((await json('migrate', 'up', '--to', ALL[4]!)).doc.applied).toEqual(ALL.slice(2, 5));
    expect(await db.applied()).toEqual(ALL.slice(0, 5));
    expect((await json('migrate', '--to', ALL[1]!)).doc.applied).toEqual([]); // already applied: nothing to do

    expect((await json('rollback', '--yes')).doc.reverted).toEqual([ALL[4]]);
    expect((await json('migrate', 'down', '--step', '2', '--yes')).doc.reverted).toEqual([ALL[3], ALL[2]]);
    expect((await json('rollback', '--to', ALL[0]!, '--yes')).doc.reverted).toEqual([ALL[1], ALL[0]]);
    expect(await db.applied()).toEqual([]);
  });

  it('status --exit-code exits 1 while migrations are pending, and lists them for people', async () => {
    const res = await run('migrate', 'status', '--exit-code');
    expect(res.exitCode).toBe(1);
    for (const name of ALL) expect(res.stdout).toMatch(new RegExp(`${name}\\s+pending`));
    await run('migrate', '--step', '1');
    const again = await run('migrate', 'status');
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`${ALL[0]}\\s+applied\\s+\\d{4}-`));
  });

  it('--dry-run runs the pending migrations in a rolled-back transaction and changes nothing', async () => {
    const res = await json('migrate', '--dry-run');
    expect(res.exitCode).toBe(0);
    // the no-transaction migration cannot run inside the dry run's transaction; it is reported, not hidden
    expect(res.doc).toMatchObject({
      applied: ALL.filter((n) => n !== '0007_index_orders'),
      dryRun: true,
      notRun: ['0007_index_orders'],
    });
    // and says what would change, without opsctl's own bookkeeping
    const changes = res.doc.changes as { created: string[]; dropped: string[] };
    expect(changes.dropped).toEqual([]);
    for (const obj of [
      'table public.products',
      'column public.orders.status text',
      'sequence public.products_id_seq',
      'table public.shipments',
    ]) {
      expect(changes.created).toContain(obj);
    }
    expect(changes.created.some((o) => o.includes('opsctl_migrations'))).toBe(false);
    expect(await db.hasTable('products')).toBe(false);
    expect(await db.hasTable('opsctl_migrations')).toBe(false);
    const people = await run('migrate', '--dry-run', '--step', '1');
    expect(people.stdout).toContain('  + table public.products');
  });

  it('--dry-run reports a failing migration without changing anything', async () => {
    app.write('migrations/0008_broken.sql', 'create table broken (id int);\nselect * from no_such_table;\n');
    const res = await run('migrate', '--dry-run');
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('0008_broken.sql:2:15: relation "no_such_table" does not exist');
    expect(await db.hasTable('products')).toBe(false);
  });

  it('uses a configured schema and table for its state', async () => {
    app.write('opsctl.config.yaml', 'database:\n  schema: ops\n  table: schema_history\n');
    const res = await run('migrate', '--step', '1');
    expect(res.exitCode).toBe(0);
    expect((await db.query<{ name: string }>('select name from ops.schema_history')).map((r) => r.name)).toEqual([
      ALL[0],
    ]);
    expect(await db.hasTable('opsctl_migrations')).toBe(false);
  });

  it('create numbers in the folder style, uses the template and shows the file as pending', async () => {
    const res = await json('migrate', 'create', 'Add order notes', '--sql');
    expect(res.exitCode).toBe(0);
    expect(res.doc).toMatchObject({
      name: '0008_add_order_notes',
      files: ['migrations/0008_add_order_notes.sql'],
      numbering: 'sequence',
      pending: true,
    });
    const text = readFileSync(join(app.root, 'migrations/0008_add_order_notes.sql'), 'utf8');
    expect(text).toMatch(/^-- up$/m);
    expect(text).toMatch(/^-- down$/m);
    const ts = await json('migrate', 'create', 'backfill', '--ts');
    expect(ts.doc).toMatchObject({ name: '0009_backfill', pending: true });
    expect(existsSync(join(app.root, 'migrations/0009_backfill.ts'))).toBe(true);
    // the new skeletons are valid migrations: applying everything works
    expect((await json('migrate')).doc.applied).toEqual([...ALL, '0008_add_order_notes', '0009_backfill']);
  });

  it('create follows a timestamp style and the newest file format', async () => {
    const ts = makeApp({
      'db/migrations/20240101120000_init.up.sql': 'select 1;\n',
      'db/migrations/20240101120000_init.down.sql': 'select 1;\n',
    });
    try {
      const res = await opsctl(['-C', ts.root, 'migrate', 'create', 'users', '--json'], { env: cliEnv(db.url) });
      const doc = JSON.parse(res.stdout) as { name: string; files: string[]; numbering: string };
      expect(doc.numbering).toBe('timestamp');
      expect(doc.name).toMatch(/^\d{14}_users$/);
      expect(doc.name > '20240101120000_init').toBe(true);
      expect(doc.files).toEqual([`db/migrations/${doc.name}.up.sql`, `db/migrations/${doc.name}.down.sql`]);
    } finally {
      ts.remove();
    }
  });

  it('names the chosen folder when several candidates exist', async () => {
    app.write('backend/migrations/0001_other.sql', 'select 1;\n');
    const res = await run('migrate', 'status');
    expect(res.stderr).toContain('Using migrations/ for migrations; also found backend/migrations/');
    expect(hasStackTrace(res.stderr)).toBe(false);
  });
});
