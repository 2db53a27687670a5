import { describe, expect, it } from 'vitest';
import { hasStackTrace } from '../helpers/cli.js';
import { makeApp, useAppDatabase } from './migrate-setup.js';

/** `opsctl db seed` with opsctl's own runner, against a real PostgreSQL. */

const { t, cli, doc } = useAppDatabase();
const seeded = async () =>
  (await t.db.query<{ name: string }>('select name from seeded order by id')).map((r) => r.name);

// every seed records itself, so the order they ran in is in the table
const record = (name: string) => `insert into seeded (name) values ('${name}');`;
const SEEDS = {
  'backend/migrations/0001_seeded.sql': 'create table seeded (id serial primary key, name text);\n',
  'backend/seeds/001_users.sql': `${record('001_users')}\n`,
  'backend/seeds/002_orders.mjs': `export async function seed({ context: { client } }) { await client.query(${JSON.stringify(record('002_orders'))}); }\n`,
  'backend/seeds/003_totals.ts': `export default async function ({ context: { client } }: { context: { client: { query(sql: string): Promise<unknown> } } }) { await client.query(${JSON.stringify(record('003_totals'))}); }\n`,
  'backend/seeds/004_legacy.cjs': `module.exports = { seed: async ({ context: { client } }) => { await client.query(${JSON.stringify(record('004_legacy'))}); } };\n`,
  'backend/seeds/_helpers.js': 'throw new Error("not a seed");\n',
  'backend/seeds/README.md': 'not a seed\n',
};

describe('db seed', () => {
  it('runs the seeds/ folder next to the migrations in name order: SQL, ESM, TypeScript, CommonJS', async () => {
    t.app = makeApp(SEEDS);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['db', 'seed', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const names = ['001_users', '002_orders', '003_totals', '004_legacy'];
    expect(doc(res.stdout)).toMatchObject({ command: 'db seed', ok: true, seeds: names, folder: 'backend/seeds' });
    expect(await seeded()).toEqual(names);
    // not idempotent by itself: a second run inserts again (idempotence is the seed's business)
    const again = await cli(['db', 'seed', '--only', '001_users.sql']);
    expect(again.exitCode).toBe(0);
    // progress lines use the progress marker; `→` is for hints (README "Output")
    expect(again.stderr).toMatch(/^… Seeding postgres@127\.0\.0\.1:\d+\/\S+ from backend\/seeds\/ \(1 file\(s\)\)$/m);
    expect(again.stderr).not.toContain('→');
    expect(await seeded()).toEqual([...names, '001_users']);
  });

  it('--dry-run runs each seed and rolls it back; --only an unknown name is exit 2 listing the seeds', async () => {
    t.app = makeApp(SEEDS);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const dry = await cli(['db', 'seed', '--dry-run', '--json']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(doc(dry.stdout)).toMatchObject({
      dryRun: true,
      seeds: ['001_users', '002_orders', '003_totals', '004_legacy'],
    });
    expect(await seeded()).toEqual([]);
    const unknown = await cli(['db', 'seed', '--only', '009_nope', '--json']);
    expect(unknown.exitCode).toBe(2);
    expect(doc(unknown.stdout)).toMatchObject({ error: { hint: expect.stringContaining('001_users, 002_orders') } });
  });

  it('a failing seed stops the run: exit 3 naming it, the seeds before it stay committed, the rest do not run', async () => {
    t.app = makeApp({
      ...SEEDS,
      'backend/seeds/002_orders.mjs': `export async function seed({ context: { client } }) { await client.query(${JSON.stringify(record('002_orders'))}); await client.query('select * from no_such_table'); }\n`,
    });
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['db', 'seed', '--json']);
    expect(res.exitCode).toBe(3);
    const d = doc(res.stdout) as { seeds: string[]; error: { code: string; message: string; hint: string } };
    expect(d.seeds).toEqual(['001_users']);
    expect(d.error.code).toBe('SEED_FAILED');
    expect(d.error.message).toContain(
      'Seed 002_orders failed: 002_orders.mjs: relation "no_such_table" does not exist',
    );
    expect(d.error.hint).toContain('The seeds before it stay committed: 001_users.');
    expect(hasStackTrace(res.stderr)).toBe(false);
    // its own insert was rolled back with it
    expect(await seeded()).toEqual(['001_users']);
  });

  it('database.seeds names the folder; a SQL seed ending its own transaction is refused before any seed runs', async () => {
    t.app = makeApp({
      'opsctl.config.json': JSON.stringify({ database: { seeds: 'data/seeds' } }),
      'migrations/0001_seeded.sql': 'create table seeded (id serial primary key, name text);\n',
      'data/seeds/001_a.sql': `${record('001_a')}\n`,
      'data/seeds/002_b.sql': `${record('002_b')}\ncommit;\n`,
    });
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['db', 'seed']);
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('002_b.sql:2: commit inside a seed');
    expect(await seeded()).toEqual([]);
    t.app!.write('data/seeds/002_b.sql', `${record('002_b')}\n`);
    expect((await cli(['db', 'seed'])).exitCode).toBe(0);
    expect(await seeded()).toEqual(['001_a', '002_b']);
  });

  it('under --env production it asks first: exit 2 without --yes, runs with --yes --env production', async () => {
    t.app = makeApp(SEEDS);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const refused = await cli(['db', 'seed', '--env', 'production', '--only', '001_users']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(
      /Run 1 seed\(s\) from backend\/seeds\/ on postgres@127\.0\.0\.1:\d+\/\S+ \(production\)/,
    );
    expect(await seeded()).toEqual([]);
    const res = await cli(['db', 'seed', '--env', 'production', '--only', '001_users', '--yes']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await seeded()).toEqual(['001_users']);
  });

  it('no seeds folder: exit 2 saying where it looked', async () => {
    t.app = makeApp({ 'migrations/0001_a.sql': 'select 1;\n' });
    const res = await cli(['db', 'seed']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('No seeds folder: looked for seeds/');
  });

  it('--only "" (an unset variable in a script) is exit 2, not every seed', async () => {
    t.app = makeApp(SEEDS);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['db', 'seed', '--only', '', '--json']);
    expect(res.exitCode).toBe(2);
    expect(doc(res.stdout)).toMatchObject({ error: { hint: expect.stringContaining('001_users') } });
    expect(await seeded()).toEqual([]);
  });

  it("a JS seed's client.query('commit') is refused in a seed's words (no migration, state row or no-transaction)", async () => {
    t.app = makeApp({
      ...SEEDS,
      'backend/seeds/002_orders.mjs':
        "export async function seed({ context: { client } }) { await client.query('commit'); }\n",
    });
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['db', 'seed']);
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('would end or start the transaction opsctl runs this seed in');
    expect(res.stderr).not.toMatch(/migration|state row|no-transaction|transaction = false/);
  });
});
