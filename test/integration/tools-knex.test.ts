import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { knexAdapter } from '../../src/db/tools/knex.js';
import { isOpsError } from '../../src/errors.js';
import { testServers } from './migrate-setup.js';
import { expectOnlyPending, makeToolApp, names, readStatus, runOwnCli, runTool, useToolApp } from './tools-setup.js';

const FIRST = '20250820085214_create_users.js';
const SECOND = '20250820090000_add_email.js';

// the knexfile computes its folder (path.join(__dirname, …)) and picks a section by NODE_ENV, as real ones do
const KNEXFILE = `const path = require('node:path');
const migrations = { directory: path.join(__dirname, 'db', 'migrations'), tableName: 'app_migrations' };
module.exports = {
  development: { client: 'pg', connection: process.env.DATABASE_URL, migrations },
  production: { client: 'pg', connection: process.env.DATABASE_URL, migrations },
};
`;

const migration = (up: string, down: string) =>
  `exports.up = (knex) => knex.raw(${JSON.stringify(up)});\nexports.down = (knex) => knex.raw(${JSON.stringify(down)});\n`;

describe.each(testServers())('knex adapter ($label)', (server) => {
  const nodeEnv = process.env.NODE_ENV;
  // vitest sets NODE_ENV=test; knex (and opsctl reading the knexfile) pick the knexfile's section by it
  beforeEach(() => {
    process.env.NODE_ENV = 'production';
  });
  afterEach(() => {
    process.env.NODE_ENV = nodeEnv;
  });
  const t = useToolApp(server, knexAdapter, () =>
    makeToolApp(
      { name: 'backend', scripts: { migrate: 'knex migrate:latest' }, dependencies: { knex: '^3.0.0', pg: '^8.0.0' } },
      {
        'knexfile.js': KNEXFILE,
        [`db/migrations/${FIRST}`]: migration('create table users (id int primary key)', 'drop table users'),
        [`db/migrations/${SECOND}`]: migration(
          'alter table users add column email text',
          'alter table users drop column email',
        ),
      },
    ),
  );

  it('detects knex and reads the folder and table from the knexfile (loaded, not parsed)', () => {
    expect(t.choice.reasons).toEqual(['knex in dependencies', 'knexfile.js']);
    expect(t.choice.migrationsDir).toBe(join(t.app.root, 'db', 'migrations'));
    expect(t.choice.table).toBe('app_migrations');
    expect(knexAdapter.detect(t.app.root, { name: 'other' })).toMatchObject({ reasons: ['knexfile.js'] });
    rmSync(join(t.app.root, 'knexfile.js'));
    expect(knexAdapter.detect(t.app.root, { name: 'other' })).toBeUndefined();
  });

  it('an empty database: everything pending, in knex names (file names with extension)', async () => {
    await expectOnlyPending(knexAdapter, t.choice, t.db.url, [FIRST, SECOND]);
  });

  it('after the app migrated itself with its own knex CLI: nothing pending, batches shown', async () => {
    await runOwnCli(t.app.root, 'knex', ['migrate:latest'], t.db.url);
    const status = await readStatus(knexAdapter, t.choice, t.db.url);
    expect(status.pending).toEqual([]);
    expect(status.executed).toMatchObject([
      { name: FIRST, batch: 1 },
      { name: SECOND, batch: 1 },
    ]);
    expect(Date.parse(status.executed[0]!.appliedAt)).not.toBeNaN();
  });

  it('command(): migrates, rolls back the last batch, one step, and all', async () => {
    const up = await runTool(knexAdapter.command(t.choice, { kind: 'up', step: 1 }), t.app.root, t.db.url);
    expect(up.exitCode, up.all).toBe(0);
    expect(names(await readStatus(knexAdapter, t.choice, t.db.url))).toEqual([FIRST]);
    expect(await runTool(knexAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url)).toMatchObject({
      exitCode: 0,
    });
    expect(await t.db.applied('app_migrations')).toEqual([FIRST, SECOND]);
    // the default rollback is knex's own unit, the last batch: SECOND alone (it ran in batch 2)
    expect(await runTool(knexAdapter.command(t.choice, { kind: 'down' }), t.app.root, t.db.url)).toMatchObject({
      exitCode: 0,
    });
    expect(await t.db.applied('app_migrations')).toEqual([FIRST]);
    expect(
      await runTool(knexAdapter.command(t.choice, { kind: 'up', to: SECOND }), t.app.root, t.db.url),
    ).toMatchObject({
      exitCode: 0,
    });
    expect(await runTool(knexAdapter.command(t.choice, { kind: 'down', step: 1 }), t.app.root, t.db.url)).toMatchObject(
      {
        exitCode: 0,
      },
    );
    expect(await t.db.applied('app_migrations')).toEqual([FIRST]);
    await runTool(knexAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    expect(
      await runTool(knexAdapter.command(t.choice, { kind: 'down', all: true }), t.app.root, t.db.url),
    ).toMatchObject({
      exitCode: 0,
    });
    expect(await t.db.applied('app_migrations')).toEqual([]);
    expect(await t.db.hasTable('users')).toBe(false);
  });

  it('a failing migration: knex exits non-zero, names it, and rolls back its whole batch (one transaction)', async () => {
    const broken = '20250820100000_broken.js';
    t.app.write(`db/migrations/${broken}`, migration('insert into no_such_table values (1)', 'select 1'));
    const res = await runTool(knexAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    expect(res.exitCode).not.toBe(0);
    expect(res.all).toContain(broken);
    expect(res.all).toContain('relation "no_such_table" does not exist');
    // the two good migrations ran in the same batch transaction: nothing is left applied
    const status = await readStatus(knexAdapter, t.choice, t.db.url);
    expect(status.executed).toEqual([]);
    expect(status.pending).toEqual([FIRST, SECOND, broken]);
    expect(await t.db.hasTable('users')).toBe(false);
    expect(knexAdapter.transactional).toBe('all');
  });

  it('a migration whose file is gone is missing; a lock left by a crashed run is a warning', async () => {
    await runTool(knexAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    rmSync(join(t.app.root, 'db/migrations', SECOND));
    await t.db.query('update app_migrations_lock set is_locked = 1');
    const status = await readStatus(knexAdapter, t.choice, t.db.url);
    expect(status.missing).toEqual([SECOND]);
    expect(status.warnings?.[0]).toContain('app_migrations_lock is locked');
  });

  it("create(): a file in knex's naming and stub, which knex then runs", async () => {
    const created = knexAdapter.create!(t.choice, 'add_orders');
    expect(created.name).toMatch(/^\d{14}_add_orders\.js$/);
    expect(created.path).toBe(join(t.app.root, 'db/migrations', created.name));
    expect((await readStatus(knexAdapter, t.choice, t.db.url)).pending).toEqual([FIRST, SECOND, created.name]);
    expect(await runTool(knexAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url)).toMatchObject({
      exitCode: 0,
    });
    expect(await t.db.applied('app_migrations')).toEqual([FIRST, SECOND, created.name]);
  });

  it('options the knex CLI lacks are usage errors (exit 2) naming knex', () => {
    for (const action of [
      { kind: 'up', step: 2 },
      { kind: 'down', step: 3 },
      { kind: 'down', to: FIRST },
    ] as const) {
      let error: unknown;
      try {
        knexAdapter.command(t.choice, action);
      } catch (err) {
        error = err;
      }
      expect(isOpsError(error) && error.exitCode).toBe(2);
      expect((error as Error).message).toMatch(/^knex /);
    }
  });
});
