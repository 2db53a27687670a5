import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { cliEnv, createDatabase, makeApp, type TestDatabase, testServers, useServer } from './migrate-setup.js';

// the migration defects of issue 9, each against a real PostgreSQL

const FIRST = '-- up\ncreate table first (id int primary key);\n-- down\ndrop table first;\n';

describe.each(testServers())('migrate: issue 9 defects ($label)', (server) => {
  const serverUrl = useServer(server);
  let db: TestDatabase;
  let app: ReturnType<typeof makeApp>;
  const run = (args: string[], env: Record<string, string | undefined> = {}) =>
    opsctl(['-C', app.root, ...args], { env: { ...cliEnv(db.url), ...env } });
  const status = async () => JSON.parse((await run(['migrate', 'status', '--json'])).stdout) as Record<string, unknown>;

  beforeEach(async () => {
    db = await createDatabase(serverUrl());
    app = makeApp({ 'migrations/0001_first.sql': FIRST });
  });
  afterEach(async () => {
    await db.drop();
    app.remove();
  });

  describe('the checksum covers the up part only', () => {
    it('editing only the -- down part of an applied single-file migration is not drift', async () => {
      expect((await run(['migrate'])).exitCode).toBe(0);
      app.write(
        'migrations/0001_first.sql',
        '-- up\ncreate table first (id int primary key);\n-- down\ndrop table first cascade;\n',
      );
      expect(await status()).toMatchObject({ drifted: [], missing: [], pending: [] });
      expect((await run(['migrate'])).exitCode).toBe(0);
    });

    it('editing the up part still is drift', async () => {
      expect((await run(['migrate'])).exitCode).toBe(0);
      app.write(
        'migrations/0001_first.sql',
        '-- up\ncreate table first (id bigint primary key);\n-- down\ndrop table first;\n',
      );
      expect(await status()).toMatchObject({ drifted: ['0001_first'] });
      expect((await run(['migrate'])).exitCode).toBe(1);
    });

    it('a state row written by an older opsctl (whole-file checksum) is not drift, and migrate upgrades it', async () => {
      expect((await run(['migrate'])).exitCode).toBe(0);
      const whole = createHash('sha256').update(FIRST).digest('hex');
      await db.query("update opsctl_migrations set checksum = $1 where name = '0001_first'", [whole]);
      expect(await status()).toMatchObject({ drifted: [], missing: [], pending: [] });

      // the next migrate (nothing pending) rewrites it in the new format, so later down edits are not drift either
      expect((await run(['migrate'])).exitCode).toBe(0);
      const [row] = await db.query<{ checksum: string }>('select checksum from opsctl_migrations');
      expect(row!.checksum).toBe(createHash('sha256').update('create table first (id int primary key);').digest('hex'));
      app.write('migrations/0001_first.sql', '-- up\ncreate table first (id int primary key);\n-- down\nselect 1;\n');
      expect(await status()).toMatchObject({ drifted: [] });
    });

    it('an old whole-file checksum does not hide a changed up part', async () => {
      expect((await run(['migrate'])).exitCode).toBe(0);
      const whole = createHash('sha256').update(FIRST).digest('hex');
      await db.query("update opsctl_migrations set checksum = $1 where name = '0001_first'", [whole]);
      app.write(
        'migrations/0001_first.sql',
        '-- up\ncreate table first (id bigint primary key);\n-- down\ndrop table first;\n',
      );
      expect(await status()).toMatchObject({ drifted: ['0001_first'] });
      expect((await run(['migrate'])).exitCode).toBe(1);
      const [row] = await db.query<{ checksum: string }>('select checksum from opsctl_migrations');
      expect(row!.checksum).toBe(whole);
    });
  });

  describe('transaction control inside a transactional migration', () => {
    const controls = [
      'commit;',
      'COMMIT;',
      'end;',
      'rollback;',
      'abort;',
      'begin;',
      'start transaction;',
      'commit and chain;',
    ];
    it.each(controls)('"%s" is refused before anything runs, pointing at -- opsctl:no-transaction', async (control) => {
      app.write('migrations/0002_ctl.sql', `-- up\ncreate table a (id int);\n${control}\ncreate table b (id int);\n`);
      const res = await run(['migrate', '--json']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain(`0002_ctl.sql:3: ${control.replace(/;$/, '')}`);
      expect(res.stderr).toContain('-- opsctl:no-transaction');
      expect(hasStackTrace(res.stderr)).toBe(false);
      const doc = JSON.parse(res.stdout);
      expect(doc).toMatchObject({ ok: false, exitCode: 3, applied: [], error: { code: 'MIGRATION_INVALID' } });
      expect(await db.hasTable('a')).toBe(false);
      expect(await db.hasTable('first')).toBe(false);
      expect(await db.applied()).toEqual([]);
    });

    it('only the direction being run is checked: a COMMIT in the down part stops the rollback, not migrate', async () => {
      app.write(
        'migrations/0002_down_commit.sql',
        '-- up\ncreate table kept (id int);\n-- down\ndrop table kept;\ncommit;\n',
      );
      expect((await run(['migrate'])).exitCode).toBe(0);
      const res = await run(['rollback', '--yes']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain('0002_down_commit.sql:5: commit inside a migration that runs in a transaction');
      expect(await db.hasTable('kept')).toBe(true);
      expect(await db.applied()).toEqual(['0001_first', '0002_down_commit']);
    });

    it('a JS migration with transaction = false may commit', async () => {
      app.write(
        'migrations/0002_js_free.mjs',
        "export const transaction = false;\nexport async function up({ context: { client } }) {\n  await client.query('begin');\n  await client.query('create table js_free (id int)');\n  await client.query('commit');\n}\n",
      );
      const res = await run(['migrate']);
      expect(res.exitCode).toBe(0);
      expect(await db.hasTable('js_free')).toBe(true);
      expect(await db.applied()).toEqual(['0001_first', '0002_js_free']);
    });

    it('savepoints, strings, comments and PL/pgSQL blocks are not transaction control', async () => {
      app.write(
        'migrations/0002_fine.sql',
        [
          '-- up',
          '-- commit; in a comment',
          'create table notes (body text);',
          "insert into notes values ('commit;');",
          'savepoint s1;',
          "insert into notes values ('x');",
          'rollback to savepoint s1;',
          'release savepoint s1;',
          "do $$ begin insert into notes values ('from do'); end $$;",
          'create function touch() returns void language plpgsql as $f$ begin perform 1; end; $f$;',
          '-- down',
          'drop table notes;',
        ].join('\n'),
      );
      const res = await run(['migrate']);
      expect(res.stderr).not.toContain('✖');
      expect(res.exitCode).toBe(0);
      expect((await db.query<{ body: string }>('select body from notes order by body')).map((r) => r.body)).toEqual([
        'commit;',
        'from do',
      ]);
    });

    it('a no-transaction migration may commit (it runs statement by statement anyway)', async () => {
      app.write('migrations/0002_free.sql', '-- opsctl:no-transaction\n-- up\ncreate table free (id int);\ncommit;\n');
      const res = await run(['migrate']);
      expect(res.exitCode).toBe(0);
      expect(await db.applied()).toEqual(['0001_first', '0002_free']);
    });

    it('a JS migration that commits is stopped before the commit and rolled back whole, as reported', async () => {
      app.write(
        'migrations/0002_js_commit.mjs',
        "export async function up({ context: { client } }) {\n  await client.query('create table js_a (id int)');\n  await client.query('COMMIT');\n  await client.query('create table js_b (id int)');\n}\n",
      );
      const res = await run(['migrate', '--json']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain('0002_js_commit.mjs');
      expect(res.stderr).toContain('-- opsctl:no-transaction');
      expect(res.stderr).toContain('export const transaction = false');
      expect(JSON.parse(res.stdout)).toMatchObject({ applied: ['0001_first'], error: { code: 'MIGRATION_FAILED' } });
      expect(await db.hasTable('js_a')).toBe(false);
      expect(await db.hasTable('js_b')).toBe(false);
      expect(await db.applied()).toEqual(['0001_first']);
    });
  });

  it('a SQL migration sent in one query still records how long it took (measured by the server)', async () => {
    app.write('migrations/0002_slow.sql', 'select pg_sleep(0.3);\n');
    expect((await run(['migrate'])).exitCode).toBe(0);
    const [row] = await db.query<{ duration_ms: number }>(
      "select duration_ms from opsctl_migrations where name = '0002_slow'",
    );
    expect(row!.duration_ms).toBeGreaterThanOrEqual(300);
    expect(row!.duration_ms).toBeLessThan(60_000);
  });

  it('a file name with a space is refused for that reason (exit 2), not as unversioned', async () => {
    app.write('migrations/0002_add orders.sql', 'create table orders (id int);\n');
    const res = await run(['migrate']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('"0002_add orders.sql": a migration file name cannot contain spaces');
    expect(res.stderr).toContain('0002_add_orders.sql');
    expect(res.stderr).not.toContain('does not start with a version');
    expect(await db.applied()).toEqual([]);
  });

  describe('SQL errors without a position', () => {
    it('name the failing statement line, never line 0 (.up.sql)', async () => {
      app.write(
        'migrations/0002_dup.up.sql',
        'insert into first values (1);\n\ninsert into first values (1);\ninsert into first values (2);\n',
      );
      const res = await run(['migrate']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain('Migration 0002_dup failed: 0002_dup.up.sql:3: duplicate key value');
      expect(res.stderr).not.toMatch(/:0: /);
      expect(await db.query('select * from first')).toEqual([]);
      expect(await db.applied()).toEqual(['0001_first']);
    });

    it('name the failing statement line in a -- up section', async () => {
      app.write(
        'migrations/0002_dup.sql',
        '-- a header\n-- up\ninsert into first values (1);\ninsert into first values (1);\n-- down\ndelete from first;\n',
      );
      const res = await run(['migrate']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain('Migration 0002_dup failed: 0002_dup.sql:4: duplicate key value');
    });
  });

  it('migrate create with a 300-character name is a usage error saying the limit (exit 2), nothing written', async () => {
    const res = await run(['migrate', 'create', 'x'.repeat(300), '--json']);
    expect(res.exitCode).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ ok: false, exitCode: 2, error: { code: 'USAGE' } });
    expect(doc.error.message).toContain('at most 100 characters');
    expect(res.stderr).not.toContain('UNEXPECTED');
    expect(readFileSync(join(app.root, 'migrations/0001_first.sql'), 'utf8')).toBe(FIRST);
  });

  describe('output of JS migrations', () => {
    const LOGGING = [
      'console.log("loading the module");',
      'export async function up({ context: { client } }) {',
      '  console.log("connecting to", process.env.DATABASE_URL);',
      '  console.info("info line");',
      '  console.warn("warn line");',
      '  console.error("error line");',
      '  console.debug("debug line");',
      '  process.stdout.write("raw stdout write\\n");',
      '  await client.query("create table logged (id int)");',
      '}',
      '',
    ].join('\n');

    it('goes to stderr, never stdout: under --json stdout holds exactly one document', async () => {
      app.write('migrations/0002_logs.mjs', LOGGING);
      const res = await run(['migrate', '--json']);
      expect(res.exitCode).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ ok: true, applied: ['0001_first', '0002_logs'] });
      for (const line of [
        'loading the module',
        'connecting to',
        'info line',
        'warn line',
        'error line',
        'debug line',
        'raw stdout write',
      ])
        expect(res.stderr).toContain(line);
      expect(await db.hasTable('logged')).toBe(true);
    });

    it('goes to stderr without a --json too (stdout keeps the applied names only)', async () => {
      app.write('migrations/0002_logs.mjs', LOGGING);
      const res = await run(['migrate']);
      expect(res.exitCode).toBe(0);
      expect(res.stdout.trim().split('\n')).toEqual(['0001_first', '0002_logs']);
      expect(res.stderr).toContain('raw stdout write');
    });

    it.runIf(server.label === 'embedded')('is redacted: the database password never shows', async () => {
      const password = decodeURIComponent(new URL(db.url).password);
      expect(password.length).toBeGreaterThan(3);
      app.write(
        'migrations/0002_secret.mjs',
        `export async function up() {\n  console.log("url", process.env.DATABASE_URL);\n  console.log("password", new URL(process.env.DATABASE_URL).password);\n  process.stdout.write(decodeURIComponent(new URL(process.env.DATABASE_URL).password) + "\\n");\n}\n`,
      );
      const res = await run(['migrate', '--json']);
      expect(res.exitCode).toBe(0);
      expect(JSON.parse(res.stdout)).toMatchObject({ ok: true });
      expect(res.stdout + res.stderr).not.toContain(password);
      expect(res.stderr).toContain('password ****');
    });
  });
});
