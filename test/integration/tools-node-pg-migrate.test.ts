import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodePgMigrateAdapter } from '../../src/db/tools/node-pg-migrate.js';
import { isOpsError } from '../../src/errors.js';
import { testServers } from './migrate-setup.js';
import { expectOnlyPending, makeToolApp, names, readStatus, runOwnCli, runTool, useToolApp } from './tools-setup.js';

// node-pg-migrate's own naming: <ms timestamp>_<name>.js, recorded without the extension
const FIRST = '1700000000000_add-users';
const SECOND = '1700000000001_add-email';

const migration = (up: string, down: string) =>
  `exports.up = (pgm) => { pgm.sql(${JSON.stringify(up)}); };\nexports.down = (pgm) => { pgm.sql(${JSON.stringify(down)}); };\n`;

describe.each(testServers())('node-pg-migrate adapter ($label)', (server) => {
  const t = useToolApp(server, nodePgMigrateAdapter, () =>
    makeToolApp(
      {
        name: 'backend',
        scripts: { migrate: 'node-pg-migrate up', rollback: 'node-pg-migrate down' },
        dependencies: { 'node-pg-migrate': '^9.0.0', pg: '^8.0.0' },
      },
      {
        [`migrations/${FIRST}.js`]: migration('create table users (id int primary key)', 'drop table users'),
        [`migrations/${SECOND}.js`]: migration(
          'alter table users add column email text',
          'alter table users drop column email',
        ),
      },
    ),
  );

  it('detects node-pg-migrate from the dependency and the scripts; folder and table from script flags', () => {
    expect(t.choice.reasons).toEqual([
      'node-pg-migrate in dependencies',
      '"migrate" script runs node-pg-migrate',
      '"rollback" script runs node-pg-migrate',
    ]);
    expect(t.choice.migrationsDir).toBe(join(t.app.root, 'migrations'));
    expect(t.choice.table).toBe('pgmigrations');
    const flags = nodePgMigrateAdapter.detect(t.app.root, {
      scripts: { migrate: 'node-pg-migrate up -m db/migrations --migrations-table=schema_history' },
    });
    expect(flags).toMatchObject({ migrationsDir: join(t.app.root, 'db/migrations'), table: 'schema_history' });
    expect(nodePgMigrateAdapter.detect(t.app.root, { name: 'other' })).toBeUndefined();
  });

  it('an empty database: everything pending, named without the extension', async () => {
    await expectOnlyPending(nodePgMigrateAdapter, t.choice, t.db.url, [FIRST, SECOND]);
  });

  it('after the app migrated itself with its own CLI: nothing pending', async () => {
    await runOwnCli(t.app.root, 'node-pg-migrate', ['up'], t.db.url);
    const status = await readStatus(nodePgMigrateAdapter, t.choice, t.db.url);
    expect(status.pending).toEqual([]);
    expect(names(status)).toEqual([FIRST, SECOND]);
    expect(Date.parse(status.executed[0]!.appliedAt)).not.toBeNaN();
  });

  it('command(): migrates one step and all, rolls back one (the default), a step count, and all', async () => {
    const run = async (action: Parameters<typeof nodePgMigrateAdapter.command>[1]) => {
      const res = await runTool(nodePgMigrateAdapter.command(t.choice, action), t.app.root, t.db.url);
      expect(res.exitCode, res.all).toBe(0);
      return t.db.applied('pgmigrations');
    };
    expect(await run({ kind: 'up', step: 1 })).toEqual([FIRST]);
    expect(await run({ kind: 'up' })).toEqual([FIRST, SECOND]);
    expect(await run({ kind: 'down' })).toEqual([FIRST]);
    await run({ kind: 'up' });
    expect(await run({ kind: 'down', step: 2 })).toEqual([]);
    await run({ kind: 'up' });
    expect(await run({ kind: 'down', all: true })).toEqual([]);
    expect(await t.db.hasTable('users')).toBe(false);
  });

  it('a failing migration: non-zero exit naming it; the whole run is rolled back (its CLI uses one transaction)', async () => {
    const broken = '1700000000002_broken';
    t.app.write(`migrations/${broken}.js`, migration('insert into no_such_table values (1)', 'select 1'));
    const res = await runTool(nodePgMigrateAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    expect(res.exitCode).not.toBe(0);
    expect(res.all).toContain(broken);
    expect(res.all).toContain('relation "no_such_table" does not exist');
    const status = await readStatus(nodePgMigrateAdapter, t.choice, t.db.url);
    expect(names(status)).toEqual([]);
    expect(status.pending).toEqual([FIRST, SECOND, broken]);
    expect(await t.db.hasTable('users')).toBe(false);
    expect(nodePgMigrateAdapter.transactional).toBe('all');
  });

  it('an applied migration whose file is gone is missing', async () => {
    await runTool(nodePgMigrateAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    rmSync(join(t.app.root, 'migrations', `${SECOND}.js`));
    expect((await readStatus(nodePgMigrateAdapter, t.choice, t.db.url)).missing).toEqual([SECOND]);
  });

  it("create(): a file in node-pg-migrate's naming, which it then runs", async () => {
    const created = nodePgMigrateAdapter.create!(t.choice, 'add_orders');
    expect(created.name).toMatch(/^\d{13}_add-orders$/);
    expect(created.path).toBe(join(t.app.root, 'migrations', `${created.name}.js`));
    expect((await readStatus(nodePgMigrateAdapter, t.choice, t.db.url)).pending).toEqual([FIRST, SECOND, created.name]);
    const res = await runTool(nodePgMigrateAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    expect(res.exitCode, res.all).toBe(0);
    expect(await t.db.applied('pgmigrations')).toEqual([FIRST, SECOND, created.name]);
  });

  it('--to is a usage error (exit 2) naming node-pg-migrate', () => {
    for (const kind of ['up', 'down'] as const) {
      let error: unknown;
      try {
        nodePgMigrateAdapter.command(t.choice, { kind, to: FIRST });
      } catch (err) {
        error = err;
      }
      expect(isOpsError(error) && error.exitCode).toBe(2);
      expect((error as Error).message).toMatch(/^node-pg-migrate /);
    }
  });
});
