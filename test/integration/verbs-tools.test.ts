import { describe, expect, it } from 'vitest';
import { hasStackTrace } from '../helpers/cli.js';
import { useAppDatabase } from './migrate-setup.js';
import { makeToolApp, type ToolApp } from './tools-setup.js';

/** `migrate redo|mark|unlock` and `db seed` through the app's own tool (real knex and node-pg-migrate). */

const { t, cli, doc } = useAppDatabase<ToolApp>();

const FIRST = '20250820085214_create_log.js';
const SECOND = '20250820090000_add_posts.js';
const knexMigration = (up: string, down: string) =>
  `exports.up = (knex) => knex.raw(${JSON.stringify(up)});\nexports.down = (knex) => knex.raw(${JSON.stringify(down)});\n`;

function knexApp(extra: Record<string, string> = {}): ToolApp {
  return makeToolApp(
    { name: 'backend', private: true, scripts: { start: 'node index.js' }, dependencies: { knex: '^3', pg: '^8' } },
    {
      'knexfile.js': "module.exports = { client: 'pg', connection: process.env.DATABASE_URL };\n",
      [`migrations/${FIRST}`]: knexMigration(
        'create table steps (id serial primary key, step text)',
        'drop table steps',
      ),
      [`migrations/${SECOND}`]: knexMigration(
        "create table posts (id int); insert into steps (step) values ('up')",
        "drop table posts; insert into steps (step) values ('down')",
      ),
      ...extra,
    },
  );
}
const steps = async () => (await t.db.query<{ step: string }>('select step from steps order by id')).map((r) => r.step);

describe('knex', () => {
  it("migrate redo: migrate:down then migrate:up of the last migration, under opsctl's lock", async () => {
    t.app = knexApp();
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['migrate', 'redo', '--yes', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(doc(res.stdout)).toMatchObject({ reverted: [SECOND], applied: [SECOND], tool: 'knex' });
    expect(await steps()).toEqual(['up', 'down', 'up']);
    expect(await t.db.applied('knex_migrations')).toEqual([FIRST, SECOND]);
    // without --yes in CI: exit 2, nothing run
    const unconfirmed = await cli(['migrate', 'redo']);
    expect(unconfirmed.exitCode).toBe(2);
    expect(await steps()).toEqual(['up', 'down', 'up']);
  });

  it('migrate redo whose up fails: exit 3, saying the migration is now pending', async () => {
    t.app = knexApp();
    expect((await cli(['migrate'])).exitCode).toBe(0);
    t.app!.write(`migrations/${SECOND}`, knexMigration('select * from no_such_table', 'drop table posts'));
    const res = await cli(['migrate', 'redo', '--yes', '--json']);
    expect(res.exitCode).toBe(3);
    expect(doc(res.stdout)).toMatchObject({
      reverted: [SECOND],
      applied: [],
      error: {
        message: expect.stringContaining('no_such_table'),
        hint: expect.stringContaining(`${SECOND} was reverted and is now pending`),
      },
    });
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(await t.db.applied('knex_migrations')).toEqual([FIRST]);
  });

  it('migrate mark: exit 2, knex has no such command (and what to do)', async () => {
    t.app = knexApp();
    const res = await cli(['migrate', 'mark', SECOND, '--applied', '--yes', '--json']);
    expect(res.exitCode).toBe(2);
    expect(doc(res.stdout)).toMatchObject({
      error: {
        message: expect.stringContaining('knex has no "mark"'),
        hint: expect.stringContaining('knex_migrations'),
      },
    });
  });

  it('migrate unlock clears knex_migrations_lock left locked with knex migrate:unlock', async () => {
    t.app = knexApp();
    expect((await cli(['migrate'])).exitCode).toBe(0);
    expect((await cli(['migrate', 'unlock', '--json'])).stdout).toContain('"locked": false');
    await t.db.query('update knex_migrations_lock set is_locked = 1');
    const res = await cli(['migrate', 'unlock', '--yes', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(doc(res.stdout)).toMatchObject({
      holder: null,
      tool: 'knex',
      toolLock: { table: 'knex_migrations_lock', locked: true, released: true },
    });
    expect(await t.db.query('select is_locked from knex_migrations_lock')).toEqual([{ is_locked: 0 }]);
  });

  it('db seed runs knex seed:run (--only: --specific)', async () => {
    t.app = knexApp({
      'seeds/01_posts.js': 'exports.seed = (knex) => knex.raw("insert into steps (step) values (\'seed 1\')");\n',
      'seeds/02_more.js': 'exports.seed = (knex) => knex.raw("insert into steps (step) values (\'seed 2\')");\n',
    });
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['db', 'seed', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(doc(res.stdout)).toMatchObject({ ok: true, tool: 'knex' });
    expect(await steps()).toEqual(['up', 'seed 1', 'seed 2']);
    expect((await cli(['db', 'seed', '--only', '02_more.js'])).exitCode).toBe(0);
    expect(await steps()).toEqual(['up', 'seed 1', 'seed 2', 'seed 2']);
  });
});

describe('node-pg-migrate', () => {
  const migration = (table: string) =>
    `exports.up = (pgm) => { pgm.createTable('${table}', { id: 'id' }); };\nexports.down = (pgm) => { pgm.dropTable('${table}'); };\n`;
  const pgmApp = () =>
    makeToolApp(
      {
        name: 'api',
        private: true,
        scripts: { migrate: 'node-pg-migrate up' },
        dependencies: { 'node-pg-migrate': '^9' },
      },
      {
        'migrations/1700000000000_add-users.js': migration('users'),
        'migrations/1700000000001_add-posts.js': migration('posts'),
      },
    );

  it('migrate redo runs its redo; mark --pending / --applied run down/up with --fake (nothing run)', async () => {
    t.app = pgmApp();
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const [before] = await t.db.query<{ id: number }>(
      "select id from pgmigrations where name = '1700000000001_add-posts'",
    );
    const redo = await cli(['migrate', 'redo', '--yes', '--json']);
    expect(redo.exitCode, redo.stderr).toBe(0);
    expect(doc(redo.stdout)).toMatchObject({
      reverted: ['1700000000001_add-posts'],
      applied: ['1700000000001_add-posts'],
    });
    const [after] = await t.db.query<{ id: number }>(
      "select id from pgmigrations where name = '1700000000001_add-posts'",
    );
    expect(after!.id).toBeGreaterThan(before!.id);

    const pending = await cli(['migrate', 'mark', '1700000000001_add-posts', '--pending', '--yes', '--json']);
    expect(pending.exitCode, pending.stderr).toBe(0);
    expect(doc(pending.stdout)).toMatchObject({ changed: true, tool: 'node-pg-migrate' });
    expect(await t.db.applied('pgmigrations')).toEqual(['1700000000000_add-users']);
    expect(await t.db.hasTable('posts')).toBe(true); // nothing ran: the table stays
    // its redo would apply every pending migration after reverting the last: refused while one is pending
    const refused = await cli(['migrate', 'redo', '--yes']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("node-pg-migrate's redo would also apply the pending 1700000000001_add-posts");
    expect(await t.db.applied('pgmigrations')).toEqual(['1700000000000_add-users']);
    const applied = await cli(['migrate', 'mark', '1700000000001_add-posts', '--applied', '--yes']);
    expect(applied.exitCode, applied.stderr).toBe(0);
    expect(await t.db.applied('pgmigrations')).toEqual(['1700000000000_add-users', '1700000000001_add-posts']);
    const typo = await cli(['migrate', 'mark', '1700000000001_add-psts', '--applied', '--yes']);
    expect(typo.exitCode).toBe(2);
    expect(typo.stderr).toContain('Did you mean 1700000000001_add-posts?');
  });

  it('db seed: exit 2, node-pg-migrate has no seeds (set database.seeds)', async () => {
    t.app = pgmApp();
    const res = await cli(['db', 'seed']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('database.seeds');
  });
});
