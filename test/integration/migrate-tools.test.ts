import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { migrationsCheck } from '../../src/checks/migrations.js';
import { loadConfig } from '../../src/config/load.js';
import { connectClient } from '../../src/db/migrate/connect.js';
import { lockKeys } from '../../src/db/migrate/lock.js';
import { migrateStep, migrationsOwner } from '../../src/deploy/migrate.js';
import type { DeployRun } from '../../src/deploy/types.js';
import { checkContext } from '../helpers/check-context.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { machinePostgresUrl, startTestPostgres } from '../helpers/postgres.js';
import { cliEnv, createDatabase, type TestDatabase } from './migrate-setup.js';
import {
  cliMigration,
  failingMigration,
  sequelizeCliApp,
  type ToolApp,
  umzugApp,
  umzugMigration,
} from './tool-apps.js';

const run = promisify(execFile);
const USERS = '20250820085214-create-user-table.js';
const POSTS = '20250821093000-create-post-table.js';
const BROKEN = '20250822100000-broken.js';

let serverUrl: string;
let stopServer: (() => Promise<void>) | undefined;
beforeAll(async () => {
  const machine = machinePostgresUrl();
  if (machine) serverUrl = machine;
  else {
    const started = await startTestPostgres();
    serverUrl = started.url;
    stopServer = started.stop;
  }
});
afterAll(async () => stopServer?.());

let db: TestDatabase;
let app: ToolApp | undefined;
beforeEach(async () => {
  db = await createDatabase(serverUrl);
});
afterEach(async () => {
  await db.drop();
  app?.remove();
  app = undefined;
});

const meta = () => db.applied('"SequelizeMeta"');
const cli = (args: string[], extra: Record<string, string | undefined> = {}) =>
  opsctl(['-C', app!.root, ...args], { env: { ...cliEnv(db.url), ...extra }, timeoutMs: 120_000 });
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe('umzug + Sequelize app (migrate/rollback scripts, SequelizeStorage)', () => {
  const migrations = { [USERS]: umzugMigration('users'), [POSTS]: umzugMigration('posts') };

  it('status on an empty database: everything pending, tool and reasons named, SequelizeMeta not created', async () => {
    app = umzugApp(migrations);
    const res = await cli(['migrate', 'status', '--json']);
    expect(res.exitCode).toBe(0);
    const doc = json(res.stdout);
    expect(doc.pending).toEqual([USERS, POSTS]);
    expect(doc.executed).toEqual([]);
    expect(doc.tool).toMatchObject({ id: 'umzug-sequelize', package: 'backend', table: 'SequelizeMeta' });
    expect((doc.tool as { reasons: string[] }).reasons).toEqual([
      'umzug and sequelize in dependencies',
      '"migrate" script: node migrate.js up',
      'no SequelizeMeta table yet',
    ]);
    expect(await db.hasTable('SequelizeMeta')).toBe(false);
    const human = await cli(['migrate', 'status']);
    expect(human.exitCode).toBe(0);
    expect(human.stderr).toContain('Migrations run by umzug-sequelize for backend (backend/)');
    expect(human.stdout).toMatch(new RegExp(`${USERS}\\s+pending`));
  });

  it('on a database the app migrated itself: nothing pending, and migrate runs nothing again', async () => {
    app = umzugApp(migrations);
    await run('npm', ['run', 'migrate'], { cwd: app.pkgDir, env: { ...process.env, DATABASE_URL: db.url } });
    expect(await meta()).toEqual([USERS, POSTS]);
    const status = json((await cli(['migrate', 'status', '--json', '--exit-code'])).stdout);
    expect(status).toMatchObject({ pending: [], missing: [], drifted: [] });
    expect((status.executed as Array<{ name: string }>).map((e) => e.name)).toEqual([USERS, POSTS]);
    expect((status.tool as { reasons: string[] }).reasons).toContain('table SequelizeMeta exists');
    const res = await cli(['migrate', '--json']);
    expect({ exitCode: res.exitCode, applied: json(res.stdout).applied }).toEqual({ exitCode: 0, applied: [] });
    expect(await meta()).toEqual([USERS, POSTS]);
  });

  it('migrate applies through the "migrate" script; rollback reverts through "rollback"', async () => {
    app = umzugApp(migrations);
    const res = await cli(['migrate', '--json']);
    expect(res.exitCode).toBe(0);
    // one JSON document on stdout: the tool's output is not there
    expect(json(res.stdout)).toMatchObject({ applied: [USERS, POSTS], reverted: [], tool: 'umzug-sequelize' });
    expect(await meta()).toEqual([USERS, POSTS]);
    expect(await db.hasTable('users')).toBe(true);

    const human = await cli(['rollback', '--yes']);
    expect(human.exitCode).toBe(0);
    expect(human.stdout.trim()).toBe(POSTS);
    expect(human.stderr).toContain('Reverted 1 migration(s) with umzug-sequelize');
    expect(await meta()).toEqual([USERS]);
    expect(await db.hasTable('posts')).toBe(false);
  });

  it('--to and --step are usage errors (the scripts take none), before anything runs', async () => {
    app = umzugApp(migrations);
    for (const args of [
      ['migrate', '--to', USERS],
      ['rollback', '--yes', '--step', '1'],
    ]) {
      const res = await cli([...args, '--json']);
      expect(res.exitCode).toBe(2);
      expect((json(res.stdout).error as { message: string }).message).toMatch(/not supported for umzug-sequelize/);
    }
    expect(await db.hasTable('SequelizeMeta')).toBe(false);
  });

  it('a failing migration: exit 3, names it, gives the database message, state as umzug left it', async () => {
    app = umzugApp({ ...migrations, [BROKEN]: failingMigration('umzug') });
    const res = await cli(['migrate', '--json']);
    expect(res.exitCode).toBe(3);
    const doc = json(res.stdout);
    expect(doc.applied).toEqual([USERS, POSTS]);
    const error = doc.error as { message: string; hint: string };
    expect(error.message).toContain(`Migration ${BROKEN} failed`);
    expect(error.message).toContain('relation "no_such_table" does not exist');
    expect(error.hint).toContain('outside a transaction');
    expect(await meta()).toEqual([USERS, POSTS]);
    // umzug runs no transaction: the statement before the failing one stays
    expect(await db.hasTable('half_done')).toBe(true);
    const human = await cli(['migrate']);
    expect(human.exitCode).toBe(3);
    expect(human.stderr).toContain(`✖ Migration ${BROKEN} failed`);
    expect(hasStackTrace(human.stdout)).toBe(false);
  });

  it('two runners at once: one migrates, the other exits 5 naming the holder', async () => {
    const slow = `'use strict';
module.exports = {
  async up({ context: queryInterface }) { await queryInterface.sequelize.query('select pg_sleep(4)'); },
  async down() {},
};
`;
    app = umzugApp({ ...migrations, '20250901000000-slow.js': slow });
    const first = cli(['migrate', '--json']);
    // the first holds the lock while its migration sleeps
    await waitForLock();
    const second = await cli(['migrate', '--json', '--lock-timeout', '500']);
    expect(second.exitCode).toBe(5);
    expect((json(second.stdout).error as { message: string }).message).toMatch(/held by .*opsctl migrate/);
    expect((await first).exitCode).toBe(0);
    expect(await meta()).toHaveLength(3);
  });
});

async function waitForLock(): Promise<void> {
  const client = await connectClient(db.url);
  try {
    const [a, b] = lockKeys('public', 'SequelizeMeta');
    for (let i = 0; i < 200; i++) {
      const { rows } = await client.query(
        "select 1 from pg_locks where locktype = 'advisory' and granted and classid = $1 and objid = $2",
        [a, b],
      );
      if (rows.length) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the first runner never took the lock');
  } finally {
    await client.end();
  }
}

describe('sequelize-cli app', () => {
  const migrations = { [USERS]: cliMigration('users'), [POSTS]: cliMigration('posts') };

  it('status on an empty database, then on one sequelize-cli migrated itself', async () => {
    app = sequelizeCliApp(migrations);
    const empty = json((await cli(['migrate', 'status', '--json'])).stdout);
    expect(empty).toMatchObject({ executed: [], pending: [USERS, POSTS] });
    expect(empty.tool).toMatchObject({ id: 'sequelize-cli', package: 'api', table: 'SequelizeMeta' });
    expect((empty.tool as { reasons: string[] }).reasons).toEqual([
      'sequelize-cli in dependencies',
      'config/config.json',
      'no SequelizeMeta table yet',
    ]);
    expect(await db.hasTable('SequelizeMeta')).toBe(false);

    await run(join(app.pkgDir, 'node_modules/.bin/sequelize-cli'), ['db:migrate'], {
      cwd: app.pkgDir,
      env: { ...process.env, DATABASE_URL: db.url },
    });
    const migrated = json((await cli(['migrate', 'status', '--json'])).stdout);
    expect(migrated).toMatchObject({ pending: [], missing: [] });
    const again = await cli(['migrate', '--json']);
    expect({ exitCode: again.exitCode, applied: json(again.stdout).applied }).toEqual({ exitCode: 0, applied: [] });
  });

  it('migrate --to, migrate, rollback, rollback --to (db:migrate:undo:all --to), --step refused', async () => {
    app = sequelizeCliApp({ ...migrations, '20250903000000-create-tag-table.js': cliMigration('tags') });
    const to = await cli(['migrate', '--to', USERS, '--json']);
    expect({ code: to.exitCode, applied: json(to.stdout).applied }).toEqual({ code: 0, applied: [USERS] });
    const rest = await cli(['migrate', '--json']);
    expect(json(rest.stdout).applied).toEqual([POSTS, '20250903000000-create-tag-table.js']);
    const one = await cli(['rollback', '--yes', '--json']);
    expect(json(one.stdout).reverted).toEqual(['20250903000000-create-tag-table.js']);
    const step = await cli(['rollback', '--yes', '--step', '1', '--json']);
    expect(step.exitCode).toBe(2);
    const back = await cli(['rollback', '--yes', '--to', POSTS, '--json']);
    expect({ code: back.exitCode, reverted: json(back.stdout).reverted }).toEqual({ code: 0, reverted: [POSTS] });
    expect(await meta()).toEqual([USERS]);
  });

  it('a failing migration: exit 3, names it, the database message, the rows sequelize-cli left', async () => {
    app = sequelizeCliApp({ ...migrations, [BROKEN]: failingMigration('cli') });
    const res = await cli(['migrate', '--json']);
    expect(res.exitCode).toBe(3);
    const doc = json(res.stdout);
    expect(doc.applied).toEqual([USERS, POSTS]);
    expect((doc.error as { message: string }).message).toContain(`Migration ${BROKEN} failed`);
    expect((doc.error as { message: string }).message).toContain('relation "no_such_table" does not exist');
    expect(await meta()).toEqual([USERS, POSTS]);
  });

  it('migrate create writes YYYYMMDDHHMMSS-name.js from the sequelize-cli template, shown as pending', async () => {
    app = sequelizeCliApp(migrations);
    const res = await cli(['migrate', 'create', 'add-orders', '--json']);
    expect(res.exitCode).toBe(0);
    const name = json(res.stdout).name as string;
    expect(name).toMatch(/^\d{14}-add-orders\.js$/);
    expect(readdirSync(join(app.pkgDir, 'migrations'))).toContain(name);
    expect(readFileSync(join(app.pkgDir, 'migrations', name), 'utf8')).toContain(
      'async up (queryInterface, Sequelize)',
    );
    expect(json((await cli(['migrate', 'status', '--json'])).stdout).pending).toContain(name);
  });
});

describe('detection', () => {
  it('refuses when several tools point at once, and says how to choose; database.tool settles it', async () => {
    app = umzugApp(
      { [USERS]: umzugMigration('users') },
      {
        'api/package.json': JSON.stringify({ name: 'api', devDependencies: { 'sequelize-cli': '^6' } }),
      },
    );
    const res = await cli(['migrate', '--json']);
    expect(res.exitCode).toBe(2);
    const error = json(res.stdout).error as { message: string; hint: string };
    expect(error.message).toContain('umzug-sequelize (backend: umzug and sequelize in dependencies');
    expect(error.message).toContain('sequelize-cli (api: sequelize-cli in dependencies)');
    expect(error.hint).toContain('Set database.tool in opsctl.config.json to one of sequelize-cli, umzug-sequelize');
    expect(await db.hasTable('SequelizeMeta')).toBe(false);

    app.write('opsctl.config.json', JSON.stringify({ database: { tool: 'umzug-sequelize' } }));
    const chosen = json((await cli(['migrate', 'status', '--json'])).stdout);
    expect(chosen.tool).toMatchObject({ id: 'umzug-sequelize', package: 'backend' });
    expect((chosen.tool as { reasons: string[] }).reasons[0]).toBe(
      'database.tool is "umzug-sequelize" in opsctl.config.json',
    );
    const shown = json((await cli(['config', 'show', '--json'])).stdout);
    expect(shown.migrationTool).toMatchObject({ id: 'umzug-sequelize', package: 'backend' });
  });

  it('database.tool "opsctl" keeps opsctl\'s own engine; no tool detected keeps it too', async () => {
    app = umzugApp({ [USERS]: umzugMigration('users') }, { 'opsctl.config.json': '{"database":{"tool":"opsctl"}}' });
    const shown = json((await cli(['config', 'show', '--json'])).stdout);
    expect(shown.migrationTool).toEqual({
      id: 'opsctl',
      package: null,
      reasons: ['database.tool is "opsctl" in opsctl.config.json'],
      table: 'public.opsctl_migrations',
    });
    app.remove();
    app = sequelizeCliApp({});
    app.write('api/package.json', JSON.stringify({ name: 'api', scripts: { start: 'node .' } }));
    app.write('migrations/0001_init.sql', '-- up\ncreate table t (id int);\n-- down\ndrop table t;\n');
    const human = await cli(['migrate', 'status']);
    expect(human.stderr).toContain("opsctl's own engine (no app migration tool detected");
    const res = await cli(['migrate', 'status', '--json']);
    expect(res.stderr).toBe('');
    const status = json(res.stdout);
    expect(status.tool).toMatchObject({ id: 'opsctl', package: null });
  });
});

describe('the state decides what happened', () => {
  it('a "migrate" script that exits 0 having applied nothing while something is pending is an error (exit 3)', async () => {
    app = umzugApp({ [USERS]: umzugMigration('users') });
    const manifest = JSON.parse(readFileSync(join(app.pkgDir, 'package.json'), 'utf8'));
    manifest.scripts.migrate = 'node -e "console.log(42)"';
    app.write('backend/package.json', JSON.stringify(manifest));
    const res = await cli(['migrate', '--json']);
    expect(res.exitCode).toBe(3);
    const doc = json(res.stdout);
    expect(doc.applied).toEqual([]);
    expect((doc.error as { message: string }).message).toContain('exited 0 but applied nothing');
  });

  it('a "rollback" script that reverts, then exits non-zero, is reported with what it reverted (exit 3)', async () => {
    app = umzugApp({ [USERS]: umzugMigration('users'), [POSTS]: umzugMigration('posts') });
    const manifest = JSON.parse(readFileSync(join(app.pkgDir, 'package.json'), 'utf8'));
    manifest.scripts.rollback = 'node migrate.js down && exit 7';
    app.write('backend/package.json', JSON.stringify(manifest));
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['rollback', '--yes', '--json']);
    expect(res.exitCode).toBe(3);
    const doc = json(res.stdout);
    expect(doc.reverted).toEqual([POSTS]);
    expect((doc.error as { hint: string }).hint).toContain(`Reverted before the failure: ${POSTS}`);
    expect(await meta()).toEqual([USERS]);
  });
});

describe("doctor's migrations check and deploy's migrate step use the tool", () => {
  it('doctor warns on pending from SequelizeMeta; deploy decides and applies through the tool', async () => {
    app = umzugApp({ [USERS]: umzugMigration('users'), [POSTS]: umzugMigration('posts') });
    await run('npm', ['run', 'migrate'], { cwd: app.pkgDir, env: { ...process.env, DATABASE_URL: db.url } });
    await db.query(`delete from "SequelizeMeta" where name = $1`, [POSTS]);
    await db.query('drop table posts');
    const config = loadConfig({ cwd: app.root, processEnv: { ...process.env, DATABASE_URL: db.url } });
    const check = await migrationsCheck.run(checkContext(config, { timeoutMs: 10_000 }));
    expect(check).toMatchObject({ status: 'warn', message: `1 pending in umzug-sequelize, SequelizeMeta: ${POSTS}` });

    const deploy = { deps: { config }, options: {}, packages: config.packages } as unknown as DeployRun;
    const owner = migrationsOwner(deploy);
    expect(owner?.name).toBe('backend');
    const step = migrateStep(deploy, owner!);
    expect(await step.decide()).toEqual({ run: true, what: `apply 1 pending migration(s): ${POSTS}` });
    const task = { output: '' };
    expect(await step.run(task as never)).toBe(`applied 1 with umzug-sequelize: ${POSTS}`);
    expect(await meta()).toEqual([USERS, POSTS]);
    expect(await migrationsCheck.run(checkContext(config, { timeoutMs: 10_000 }))).toMatchObject({ status: 'pass' });
  });
});

describe('sequelize-cli without use_env_variable', () => {
  it('gets the URL through --url, and the password never shows in its output', async () => {
    app = sequelizeCliApp({ [USERS]: cliMigration('users') });
    app.write(
      'api/config/config.json',
      JSON.stringify({ test: { dialect: 'postgres' }, development: { dialect: 'postgres' } }),
    );
    // the embedded test server has a real password; under trust auth (CI's server) any password is accepted
    const url = new URL(db.url);
    if (!url.password) url.password = 'pw-Sup3rSecret';
    const secret = decodeURIComponent(url.password);
    const res = await opsctl(['-C', app.root, 'migrate'], { env: { ...cliEnv(url.toString()) }, timeoutMs: 120_000 });
    expect(res.exitCode).toBe(0);
    expect(res.stdout.trim()).toBe(USERS);
    expect(`${res.stdout}${res.stderr}`).not.toContain(secret);
    expect(res.stderr).toContain('  '); // the tool's own output is shown, indented, on stderr
    expect(await meta()).toEqual([USERS]);
  });
});

describe('migrate create for umzug', () => {
  it("writes a file in the existing files' style (timestamp, dash, CommonJS), shown as pending", async () => {
    app = umzugApp({ [USERS]: umzugMigration('users') });
    const res = await cli(['migrate', 'create', 'add-orders', '--json']);
    expect(res.exitCode).toBe(0);
    const name = json(res.stdout).name as string;
    expect(name).toMatch(/^\d{14}-add-orders\.js$/);
    expect(readFileSync(join(app.pkgDir, 'migrations', name), 'utf8')).toContain('module.exports = { up, down }');
    expect(json((await cli(['migrate', 'status', '--json'])).stdout).pending).toEqual([USERS, name]);
  });
});
