import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/net/free-port.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { cliEnv, createDatabase, makeApp, type TestDatabase, testServers, useServer } from './migrate-setup.js';

const OK = {
  'migrations/0001_first.sql': '-- up\ncreate table first (id int);\n-- down\ndrop table first;\n',
};

describe.each(testServers())('migrate: failures and bad input ($label)', (server) => {
  const serverUrl = useServer(server);
  let db: TestDatabase;
  let app: ReturnType<typeof makeApp>;
  const run = (args: string[], env: Record<string, string | undefined> = {}) =>
    opsctl(['-C', app.root, ...args], { env: { ...cliEnv(db.url), ...env } });

  beforeEach(async () => {
    db = await createDatabase(serverUrl());
    app = makeApp(OK);
  });
  afterEach(async () => {
    await db.drop();
    app.remove();
  });

  it('a failing second statement: the first is rolled back, later migrations do not run, exit 3 names file and error', async () => {
    app.write(
      'migrations/0002_broken.sql',
      '-- up\ncreate table half_done (id int);\nselect * from no_such_table;\n-- down\n',
    );
    app.write('migrations/0003_after.sql', 'create table after_broken (id int);\n');
    const res = await run(['migrate', '--json']);
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain(
      '✖ Migration 0002_broken failed: 0002_broken.sql:3:15: relation "no_such_table" does not exist',
    );
    expect(res.stderr).toContain('→ It was rolled back');
    expect(hasStackTrace(res.stderr)).toBe(false);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({
      command: 'migrate',
      ok: false,
      exitCode: 3,
      applied: ['0001_first'],
      error: { code: 'MIGRATION_FAILED' },
    });
    expect(await db.hasTable('first')).toBe(true);
    expect(await db.hasTable('half_done')).toBe(false);
    expect(await db.hasTable('after_broken')).toBe(false);
    expect(await db.applied()).toEqual(['0001_first']);
  });

  it('a failing JS migration is rolled back with its state row', async () => {
    app.write(
      'migrations/0002_js.js',
      "export async function up({ context: { client } }) {\n  await client.query('create table js_half (id int)');\n  throw new Error('boom in js');\n}\n",
    );
    const res = await run(['migrate']);
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('✖ Migration 0002_js failed: 0002_js.js: boom in js');
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(await db.hasTable('js_half')).toBe(false);
    expect(await db.applied()).toEqual(['0001_first']);
  });

  it('each state row is written inside the transaction of its own migration (SQL and JS)', async () => {
    // txid_current() inside the migration vs the xmin of its state row: equal only if one transaction wrote both
    const txid = '(txid_current() % 4294967296)::text';
    app.write(
      'migrations/0002_js_tx.js',
      `export async function up({ context: { client } }) {\n  await client.query("create table txids as select ${txid} as id");\n}\n`,
    );
    app.write('migrations/0003_sql_tx.sql', `insert into txids select ${txid};\n`);
    expect((await run(['migrate'])).exitCode).toBe(0);
    const rows = await db.query<{ name: string }>(
      'select m.name from opsctl_migrations m join txids t on t.id = m.xmin::text order by m.name',
    );
    expect(rows.map((r) => r.name)).toEqual(['0002_js_tx', '0003_sql_tx']);
  });

  it('drift: a changed applied file is reported, migrate refuses (exit 1), --allow-drift proceeds', async () => {
    expect((await run(['migrate'])).exitCode).toBe(0);
    app.write('migrations/0001_first.sql', '-- up\ncreate table first (id bigint);\n-- down\ndrop table first;\n');
    app.write('migrations/0002_next.sql', 'create table next (id int);\n');
    const status = await run(['migrate', 'status', '--json', '--exit-code']);
    expect(status.exitCode).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ drifted: ['0001_first'], pending: ['0002_next'], missing: [] });

    const refused = await run(['migrate']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('Refusing to migrate: migrations changed since they were applied: 0001_first');
    expect(refused.stderr).toContain('--allow-drift');
    expect(await db.hasTable('next')).toBe(false);

    const allowed = await run(['migrate', '--allow-drift']);
    expect(allowed.exitCode).toBe(0);
    expect(await db.applied()).toEqual(['0001_first', '0002_next']);
  });

  it('missing: an applied file that is gone is reported, and doctor fails on it', async () => {
    app.write('migrations/0002_gone.sql', 'create table gone (id int);\n');
    expect((await run(['migrate'])).exitCode).toBe(0);
    rmSync(join(app.root, 'migrations/0002_gone.sql'));
    const status = await run(['migrate', 'status', '--json']);
    expect(status.exitCode).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ missing: ['0002_gone'], drifted: [], pending: [] });
    const doctor = await run(['doctor', '--only', 'migrations', '--json']);
    expect(doctor.exitCode).toBe(1);
    expect(JSON.parse(doctor.stdout).checks).toEqual([
      expect.objectContaining({ id: 'migrations', status: 'fail', message: expect.stringContaining('0002_gone') }),
    ]);
    const rollback = await run(['rollback', '--yes']);
    expect(rollback.exitCode).toBe(3);
    expect(rollback.stderr).toContain('Cannot roll back 0002_gone: applied, but the file is gone');
    expect(await db.applied()).toEqual(['0001_first', '0002_gone']);
  });

  it('doctor warns about pending migrations', async () => {
    const doctor = await run(['doctor', '--only', 'migrations', '--json']);
    expect(doctor.exitCode).toBe(0);
    expect(JSON.parse(doctor.stdout).checks[0]).toMatchObject({
      id: 'migrations',
      status: 'warn',
      message: '1 pending in migrations/: 0001_first',
    });
  });

  const badInputs: Array<{ label: string; files: Record<string, string>; exitCode: number; message: string }> = [
    {
      label: 'two files with the same version',
      files: { 'migrations/0001_other.sql': 'select 1;' },
      exitCode: 2,
      message: 'two migrations share a version: 0001 (0001_first, 0001_other)',
    },
    {
      label: 'a JS module that throws on import',
      files: { 'migrations/0002_throws.js': "throw new Error('cannot load me');\n" },
      exitCode: 3,
      message: '0002_throws.js could not be loaded: cannot load me',
    },
    {
      label: 'a module without up',
      files: { 'migrations/0002_no_up.mjs': 'export async function down() {}\n' },
      exitCode: 3,
      message: '0002_no_up.mjs does not export an `up` function',
    },
    {
      label: 'a TypeScript module with a syntax error',
      files: { 'migrations/0002_bad.ts': 'export const up = (: ) => {\n' },
      exitCode: 3,
      message: '0002_bad.ts could not be loaded',
    },
    {
      label: 'a migration file without a version',
      files: { 'migrations/create_things.sql': 'select 1;' },
      exitCode: 2,
      message: 'create_things.sql does not start with a version',
    },
    {
      label: 'a .down.sql without its .up.sql',
      files: { 'migrations/0002_orphan.down.sql': 'select 1;' },
      exitCode: 2,
      message: '0002_orphan.down.sql has no matching 0002_orphan.up.sql',
    },
  ];
  it.each(badInputs)(
    'bad input: $label → clear message, exit $exitCode, nothing changed',
    async ({ files, exitCode, message }) => {
      for (const [path, text] of Object.entries(files)) app.write(path, text);
      const res = await run(['migrate']);
      expect(res.exitCode).toBe(exitCode);
      expect(res.stderr).toContain(message);
      expect(res.stderr).toMatch(/^→ /m);
      expect(hasStackTrace(res.stderr)).toBe(false);
      expect(await db.hasTable('first')).toBe(false);
      expect(await db.applied()).toEqual([]);
    },
  );

  it('rollback past a migration without a down part refuses before reverting anything', async () => {
    app.write('migrations/0002_no_down.sql', 'create table no_down (id int);\n');
    app.write(
      'migrations/0003_with_down.sql',
      '-- up\ncreate table with_down (id int);\n-- down\ndrop table with_down;\n',
    );
    expect((await run(['migrate'])).exitCode).toBe(0);
    const res = await run(['rollback', '--step', '2', '--yes']);
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('Cannot roll back 0002_no_down: no down part.');
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(await db.applied()).toEqual(['0001_first', '0002_no_down', '0003_with_down']);
    expect(await db.hasTable('with_down')).toBe(true);
  });

  it('rollback without --yes in a non-interactive session is a usage error (exit 2)', async () => {
    expect((await run(['migrate'])).exitCode).toBe(0);
    const res = await run(['rollback']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('Pass --yes');
    expect(await db.applied()).toEqual(['0001_first']);
  });

  it('rollback --all under --env production also needs --force', async () => {
    expect((await run(['migrate'])).exitCode).toBe(0);
    const refused = await run(['rollback', '--all', '--yes', '--env', 'production']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect(await db.applied()).toEqual(['0001_first']);
    const forced = await run(['rollback', '--all', '--yes', '--force', '--env', 'production']);
    expect(forced.exitCode).toBe(0);
    expect(await db.applied()).toEqual([]);
  });

  it('unreachable database: exit 4 with a clear message', async () => {
    const url = `postgres://postgres@127.0.0.1:${await freePort()}/app`;
    for (const args of [['migrate'], ['migrate', 'status'], ['rollback', '--yes']]) {
      const res = await run(args, { DATABASE_URL: url });
      expect(res.exitCode).toBe(4);
      expect(res.stderr).toContain('PostgreSQL is not running at 127.0.0.1:');
      expect(hasStackTrace(res.stderr)).toBe(false);
    }
  });

  it('a missing database: exit 4 naming it', async () => {
    const url = new URL(db.url);
    url.pathname = '/no_such_db_here';
    const res = await run(['migrate'], { DATABASE_URL: url.toString() });
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain('database "no_such_db_here" does not exist on 127.0.0.1:');
  });

  it.runIf(server.label === 'embedded')('a wrong password: exit 4, the password never printed', async () => {
    const url = new URL(db.url);
    url.password = 'wrong-secret-pw';
    const res = await run(['migrate', '--json'], { DATABASE_URL: url.toString() });
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain(`rejected the password for user "${url.username}"`);
    expect(res.stdout + res.stderr).not.toContain('wrong-secret-pw');
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, exitCode: 4, error: { code: 'DB_AUTH' } });
    expect(await db.applied()).toEqual([]);
  });

  it('an application role without CREATE on the database can migrate (and create the state table in its schema)', async () => {
    const role = `opsctl_app_${Math.random().toString(36).slice(2, 10)}`;
    await db.query(`create role ${role} login password 'app-pw-123'`);
    await db.query(`grant usage, create on schema public to ${role}`);
    try {
      const url = new URL(db.url);
      url.username = role;
      url.password = 'app-pw-123';
      const res = await run(['migrate'], { DATABASE_URL: url.toString() });
      expect(res.stderr).not.toContain('permission denied');
      expect(res.exitCode).toBe(0);
      expect(await db.applied()).toEqual(['0001_first']);
    } finally {
      await db.query(`drop owned by ${role}`);
      await db.query(`drop role ${role}`);
    }
  });

  it('no-transaction migrations run statement by statement outside a transaction', async () => {
    writeFileSync(
      join(app.root, 'migrations/0002_concurrently.sql'),
      '-- opsctl:no-transaction\n-- up\ncreate index concurrently first_idx on first (id);\ncreate index concurrently first_idx2 on first (id);\n',
    );
    const res = await run(['migrate']);
    expect(res.exitCode).toBe(0);
    expect(await db.query("select indexname from pg_indexes where tablename = 'first' order by 1")).toEqual([
      { indexname: 'first_idx' },
      { indexname: 'first_idx2' },
    ]);
  });
});
