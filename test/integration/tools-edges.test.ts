import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { migrateStep, migrationsOwner } from '../../src/deploy/migrate.js';
import type { DeployRun } from '../../src/deploy/types.js';
import { isOpsError } from '../../src/errors.js';
import { BIN, opsctl } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { cliEnv, createDatabase, type TestDatabase, testServers, useServer } from './migrate-setup.js';
import { makeToolApp } from './tools-setup.js';

/** Detection edges an operator hits (README, "Apps with their own migration tool"): opsctl's engine never runs an app tool's files. */

const serverUrl = useServer(testServers().at(-1)!);

let db: TestDatabase;
let app: ReturnType<typeof makeToolApp> | undefined;
beforeEach(async () => {
  db = await createDatabase(serverUrl());
});
afterEach(async () => {
  await db.drop();
  app?.remove();
  app = undefined;
});

const cli = (args: string[]) => opsctl(['-C', app!.root, ...args], { env: cliEnv(db.url), timeoutMs: 120_000 });
const doc = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const KNEX_FILE = '20250820085214_create_users.js';
const knexMigration =
  "exports.up = (knex) => knex.raw('create table users (id int)');\nexports.down = (knex) => knex.raw('drop table users');\n";

/** A knex app (knexfile at the root) with `files` besides. */
function knexApp(files: Record<string, string>): ReturnType<typeof makeToolApp> {
  return makeToolApp(
    { name: 'backend', private: true, scripts: { start: 'node index.js' }, dependencies: { knex: '^3', pg: '^8' } },
    { 'knexfile.js': "module.exports = { client: 'pg', connection: process.env.DATABASE_URL };\n", ...files },
  );
}

/** status names knex with KNEX_FILE pending; migrate applies it through knex, never opsctl's engine. */
async function expectKnexRuns(): Promise<void> {
  const status = await cli(['migrate', 'status', '--json']);
  expect(status.exitCode, status.stderr).toBe(0);
  expect((doc(status.stdout).tool as { id: string }).id).toBe('knex');
  expect(doc(status.stdout).pending).toEqual([KNEX_FILE]);
  const run = await cli(['migrate', '--json']);
  expect(run.exitCode, run.stderr).toBe(0);
  expect(doc(run.stdout).applied).toEqual([KNEX_FILE]);
  expect(await db.applied('knex_migrations')).toEqual([KNEX_FILE]);
  expect(await db.hasTable('opsctl_migrations')).toBe(false);
}

describe('detection edges', () => {
  it('an app root whose package.json has no scripts but knex and a knexfile: knex runs it, never opsctl', async () => {
    app = makeToolApp(
      { name: 'api', private: true, dependencies: { knex: '^3', pg: '^8' } },
      {
        'knexfile.js': "module.exports = { client: 'pg', connection: process.env.DATABASE_URL };\n",
        [`migrations/${KNEX_FILE}`]: knexMigration,
      },
    );
    await expectKnexRuns();
  });

  it("knex as a dependency for queries only (no knexfile): opsctl's own migrations stay opsctl's, pending shown", async () => {
    app = makeToolApp(
      { name: 'backend', private: true, scripts: { start: 'node index.js' }, dependencies: { knex: '^3', pg: '^8' } },
      { 'migrations/0001_init.sql': '-- up\ncreate table q (id int);\n-- down\ndrop table q;\n' },
    );
    const status = await cli(['migrate', 'status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect((doc(status.stdout).tool as { id: string }).id).toBe('opsctl');
    expect(doc(status.stdout).pending).toEqual(['0001_init']);
    const run = await cli(['migrate', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(doc(run.stdout).applied).toEqual(['0001_init']);
  });
});

const sleeping = async () =>
  (
    await db.query(
      "select pid from pg_stat_activity where query like 'select pg_sleep(600)%' and pid <> pg_backend_pid()",
    )
  ).length;

/** `opsctl migrate --json`, sent SIGINT once the migration sleeps in the database. */
async function interruptWhileSleeping(): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [BIN, '-C', app!.root, 'migrate', '--json'], {
    env: { ...process.env, ...cliEnv(db.url) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    await waitFor('the migration to hang in the database', async () => (await sleeping()) > 0, 60_000);
    child.kill('SIGINT');
    return { code: await exited, stdout };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('Ctrl-C during a hanging migration', () => {
  it('the "scripts" tool (npm, sh, node): its tree and session ended; the report does not claim a state opsctl cannot read', async () => {
    app = makeToolApp(
      { name: 'api', private: true, scripts: { start: 'node i.js', migrate: 'node migrate.js' } },
      {
        'migrate.js':
          "const { Client } = require('pg');\nconst c = new Client({ connectionString: process.env.DATABASE_URL });\nc.connect().then(() => c.query('select pg_sleep(600)'));\n",
      },
    );
    const { code, stdout } = await interruptWhileSleeping();
    expect(code).toBe(130);
    const report = JSON.parse(stdout) as { error: { code: string; hint: string } };
    expect(report.error.code).toBe('INTERRUPTED');
    expect(report.error.hint).not.toContain('Nothing was applied');
    expect(report.error.hint).toContain('cannot read');
    expect(await sleeping()).toBe(0);
  });

  it("exit 130, the tool's tree ended, its database session too (no query left running or lock held), the state as the table shows it", async () => {
    app = knexApp({
      [`migrations/${KNEX_FILE}`]: knexMigration,
      'migrations/20250820090000_hangs.js':
        "exports.up = (knex) => knex.raw('select pg_sleep(600)');\nexports.down = () => {};\n",
    });
    const { code, stdout } = await interruptWhileSleeping();
    expect(code).toBe(130);
    const report = JSON.parse(stdout) as { error: { code: string; hint: string }; applied: string[] };
    expect(report.error.code).toBe('INTERRUPTED');
    expect(report.applied).toEqual([]);
    expect(report.error.hint).toContain('Nothing was applied');
    // the tool's session is gone with it: nothing holds knex's transaction (and its locks) after opsctl exits
    expect(await sleeping()).toBe(0);
    expect(
      await db.query(
        "select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
      ),
    ).toEqual([]);
    expect(await db.applied('knex_migrations')).toEqual([]);
  });
});

describe('--to an applied migration', () => {
  it("migrate --to <applied> runs nothing and is no error, as with opsctl's engine; the newer one stays pending", async () => {
    app = knexApp({
      [`migrations/${KNEX_FILE}`]: knexMigration,
    });
    expect((await cli(['migrate', '--json'])).exitCode).toBe(0);
    app.write(
      'migrations/20250820090000_posts.js',
      "exports.up = (knex) => knex.raw('create table posts (id int)');\nexports.down = (knex) => knex.raw('drop table posts');\n",
    );
    const res = await cli(['migrate', '--to', KNEX_FILE, '--json']);
    expect(res.exitCode, res.stdout).toBe(0);
    expect(doc(res.stdout).applied).toEqual([]);
    expect(await db.applied('knex_migrations')).toEqual([KNEX_FILE]);
  });
});

describe('a failing migration after others in the same run', () => {
  it('node-pg-migrate lists every file it will run first: the failing one is named, not the first pending', async () => {
    const sql = (up: string) =>
      `exports.up = (pgm) => { pgm.sql(${JSON.stringify(up)}); };\nexports.down = () => {};\n`;
    app = makeToolApp(
      { name: 'api', private: true, scripts: { start: 'node i.js' }, devDependencies: { 'node-pg-migrate': '^9' } },
      {
        'migrations/1700000000001_add-a.js': sql('create table a (id int)'),
        'migrations/1700000000002_add-b.js': sql('create table b (id int)'),
        'migrations/1700000000003_broken.js': sql('select * from no_such_table'),
      },
    );
    const res = await cli(['migrate', '--json']);
    expect(res.exitCode).toBe(3);
    const error = doc(res.stdout).error as { message: string };
    expect(error.message).toMatch(/^Migration 1700000000003_broken failed/);
    expect(error.message).toContain('relation "no_such_table" does not exist');
  });
});

describe('a migration waiting for a table lock the app holds', () => {
  it('--lock-timeout bounds the wait inside the tool too: exit 3 with the lock timeout, not a hang blocking the table', async () => {
    app = knexApp({
      'migrations/20250820090000_alter_users.js':
        "exports.up = (knex) => knex.raw('alter table users add column x int');\nexports.down = () => {};\n",
    });
    await db.query('create table users (id int)');
    // the app's long transaction holding the table
    await db.query('begin');
    await db.query('lock table users in access share mode');
    try {
      const started = Date.now();
      const res = await opsctl(['-C', app.root, 'migrate', '--json', '--lock-timeout', '1500'], {
        env: cliEnv(db.url),
        timeoutMs: 40_000,
      });
      expect(res.exitCode, res.stderr).toBe(3);
      expect((doc(res.stdout).error as { message: string }).message).toMatch(/lock timeout/);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await db.query('rollback');
    }
  });
});

describe("Ctrl-C during deploy's migrate step through the tool", () => {
  it('the interrupt stops the tool and its session at once, and the step fails with it', async () => {
    app = knexApp({
      'migrations/20250820090000_hangs.js':
        "exports.up = (knex) => knex.raw('select pg_sleep(600)');\nexports.down = () => {};\n",
    });
    const config = loadConfig({ cwd: app.root, processEnv: { ...process.env, DATABASE_URL: db.url } });
    const controller = new AbortController();
    const deploy = {
      deps: { config },
      options: {},
      packages: config.packages,
      signal: controller.signal,
    } as unknown as DeployRun;
    const step = migrateStep(deploy, migrationsOwner(deploy)!);
    const running = step.run({ output: '' } as never).then(
      () => undefined,
      (error: unknown) => error,
    );
    await waitFor('the migration to hang in the database', async () => (await sleeping()) > 0, 60_000);
    const started = Date.now();
    controller.abort(new Error('interrupted'));
    const error = await running;
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(isOpsError(error) && error.code).toBe('INTERRUPTED');
    expect(await sleeping()).toBe(0);
    expect(await db.applied('knex_migrations')).toEqual([]);
  }, 90_000);
});

describe('a knexfile outside the package root', () => {
  it('the "migrate" script\'s --knexfile is read: knex runs it and its state is shown (not the stateless "scripts" tool)', async () => {
    app = makeToolApp(
      {
        name: 'backend',
        private: true,
        scripts: { start: 'node index.js', migrate: 'knex migrate:latest --knexfile db/knexfile.js' },
        dependencies: { knex: '^3', pg: '^8' },
      },
      {
        'db/knexfile.js': "module.exports = { client: 'pg', connection: process.env.DATABASE_URL };\n",
        [`db/migrations/${KNEX_FILE}`]: knexMigration,
      },
    );
    await expectKnexRuns();
  });
});

describe('rollback through an app tool in CI', () => {
  it('without --yes: exit 2, and the hint offers what works for the tool (not --dry-run, which it refuses)', async () => {
    app = knexApp({
      [`migrations/${KNEX_FILE}`]: knexMigration,
    });
    const res = await cli(['rollback', '--json']);
    expect(res.exitCode).toBe(2);
    const error = doc(res.stdout).error as { hint: string };
    expect(error.hint).not.toContain('--dry-run');
    expect(error.hint).toContain('opsctl migrate status');
  });
});
