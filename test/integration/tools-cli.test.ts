import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrationsCheck } from '../../src/checks/migrations.js';
import { loadConfig } from '../../src/config/load.js';
import { lockKeys } from '../../src/db/migrate/lock.js';
import { migrateStep, migrationsOwner } from '../../src/deploy/migrate.js';
import type { DeployRun } from '../../src/deploy/types.js';
import { checkContext } from '../helpers/check-context.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { cliEnv, createDatabase, makeApp, type TestDatabase, testServers, useServer } from './migrate-setup.js';
import { installTypeorm, makeToolApp } from './tools-setup.js';

/** The knex, node-pg-migrate and Prisma adapters through the CLI: `migrate status`, `migrate`, `rollback`. */

// one server for the whole file: the machine's (OPSCTL_TEST_PG_URL) when set, else an embedded one
const serverUrl = useServer(testServers().at(-1)!);

let db: TestDatabase;
let app: { root: string; remove(): void; write(path: string, text: string): void } | undefined;
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

/** Start `opsctl migrate` while a migration sleeps, then a second one: it must exit 5 naming the first. */
async function twoRunners(table: string): Promise<void> {
  const first = cli(['migrate', '--json']);
  const [a, b] = lockKeys('public', table);
  await waitFor('the first runner to take the lock', async () => {
    const rows = await db.query(
      "select 1 from pg_locks where locktype = 'advisory' and granted and classid = $1 and objid = $2",
      [a, b],
    );
    return rows.length > 0;
  });
  const second = await cli(['migrate', '--json', '--lock-timeout', '500']);
  expect(second.exitCode).toBe(5);
  expect((doc(second.stdout).error as { message: string }).message).toMatch(/held by .*opsctl migrate/);
  const done = await first;
  expect(done.exitCode, done.stderr).toBe(0);
}

const KNEX_FIRST = '20250820085214_create_users.js';
const KNEX_SECOND = '20250820090000_create_posts.js';
const knexMigration = (up: string, down: string) =>
  `exports.up = (knex) => knex.raw(${JSON.stringify(up)});\nexports.down = (knex) => knex.raw(${JSON.stringify(down)});\n`;

function knexApp(extra: Record<string, string> = {}) {
  return makeToolApp(
    { name: 'backend', private: true, scripts: { start: 'node index.js' }, dependencies: { knex: '^3', pg: '^8' } },
    {
      'knexfile.js': "module.exports = { client: 'pg', connection: process.env.DATABASE_URL };\n",
      [`migrations/${KNEX_FIRST}`]: knexMigration('create table users (id int primary key)', 'drop table users'),
      [`migrations/${KNEX_SECOND}`]: knexMigration('create table posts (id int primary key)', 'drop table posts'),
      ...extra,
    },
  );
}

describe('knex app through the CLI', () => {
  it('status names knex and why; migrate applies, rollback reverts, both computed from knex_migrations', async () => {
    app = knexApp();
    const before = await cli(['migrate', 'status', '--json']);
    expect(before.exitCode, before.stderr).toBe(0);
    expect(doc(before.stdout)).toMatchObject({
      executed: [],
      pending: [KNEX_FIRST, KNEX_SECOND],
      tool: {
        id: 'knex',
        table: 'knex_migrations',
        reasons: ['knex in dependencies', 'knexfile.js', 'no knex_migrations table yet'],
      },
    });
    const up = await cli(['migrate', '--json']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(doc(up.stdout)).toMatchObject({ applied: [KNEX_FIRST, KNEX_SECOND] });
    expect(await db.applied('knex_migrations')).toEqual([KNEX_FIRST, KNEX_SECOND]);
    const again = await cli(['migrate', 'status', '--json']);
    expect(doc(again.stdout)).toMatchObject({
      pending: [],
      executed: [
        { name: KNEX_FIRST, batch: 1 },
        { name: KNEX_SECOND, batch: 1 },
      ],
    });
    const down = await cli(['rollback', '--yes', '--json']);
    expect(down.exitCode, down.stderr).toBe(0);
    // knex's rollback unit is the last batch: both ran in batch 1
    expect(doc(down.stdout)).toMatchObject({ reverted: [KNEX_FIRST, KNEX_SECOND] });
    expect(await db.applied('knex_migrations')).toEqual([]);
  });

  it('a failing migration: exit 3 naming it and the database message; knex rolled the batch back', async () => {
    app = knexApp({ 'migrations/20250820100000_broken.js': knexMigration('select * from no_such_table', 'select 1') });
    const res = await cli(['migrate', '--json']);
    expect(res.exitCode).toBe(3);
    expect(hasStackTrace(res.stderr)).toBe(false);
    const error = doc(res.stdout).error as { message: string; hint: string };
    expect(error.message).toContain('20250820100000_broken.js');
    expect(error.message).toContain('relation "no_such_table" does not exist');
    expect(error.hint).toContain('knex runs the whole run in one transaction');
    expect(await db.applied('knex_migrations')).toEqual([]);
  });

  it('two runners at once: one migrates, the other exits 5', async () => {
    app = knexApp({ 'migrations/20250820100000_slow.js': knexMigration('select pg_sleep(4)', 'select 1') });
    await twoRunners('knex_migrations');
    expect(await db.applied('knex_migrations')).toHaveLength(3);
  });

  it('an option knex lacks: exit 2, one JSON document, nothing run', async () => {
    app = knexApp();
    const res = await cli(['migrate', '--step', '2', '--json']);
    expect(res.exitCode).toBe(2);
    expect((doc(res.stdout).error as { message: string }).message).toMatch(/^knex cannot apply 2 migrations/);
    expect(await db.hasTable('knex_migrations')).toBe(false);
  });
});

describe("knex: doctor's migrations check and deploy's migrate step", () => {
  it('doctor warns on pending from knex_migrations; deploy applies through knex; then doctor passes', async () => {
    app = knexApp();
    const config = loadConfig({ cwd: app.root, processEnv: { ...process.env, DATABASE_URL: db.url } });
    const check = await migrationsCheck.run(checkContext(config, { timeoutMs: 10_000 }));
    expect(check).toMatchObject({ status: 'warn' });
    expect(check.message).toContain(`${KNEX_FIRST}, ${KNEX_SECOND}`);
    const deploy = { deps: { config }, options: {}, packages: config.packages } as unknown as DeployRun;
    const step = migrateStep(deploy, migrationsOwner(deploy)!);
    expect(await step.decide()).toMatchObject({ run: true });
    expect(await step.run({ output: '' } as never)).toBe(`applied 2 with knex: ${KNEX_FIRST}, ${KNEX_SECOND}`);
    expect(await migrationsCheck.run(checkContext(config, { timeoutMs: 10_000 }))).toMatchObject({ status: 'pass' });
  });
});

describe('node-pg-migrate app through the CLI', () => {
  it('migrate and rollback (one, its default) through node-pg-migrate', async () => {
    const migration = (table: string) =>
      `exports.up = (pgm) => { pgm.createTable('${table}', { id: 'id' }); };\nexports.down = (pgm) => { pgm.dropTable('${table}'); };\n`;
    app = makeToolApp(
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
    const up = await cli(['migrate', '--json']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(doc(up.stdout)).toMatchObject({ applied: ['1700000000000_add-users', '1700000000001_add-posts'] });
    const down = await cli(['rollback', '--yes', '--json']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(doc(down.stdout)).toMatchObject({ reverted: ['1700000000001_add-posts'] });
    const status = doc((await cli(['migrate', 'status', '--json'])).stdout);
    expect(status).toMatchObject({
      pending: ['1700000000001_add-posts'],
      tool: { id: 'node-pg-migrate', table: 'pgmigrations' },
    });
  });
});

describe('node-pg-migrate: two runners', () => {
  it('one migrates, the other exits 5', async () => {
    app = makeToolApp(
      { name: 'api', private: true, scripts: { start: 'node index.js' }, dependencies: { 'node-pg-migrate': '^9' } },
      { 'migrations/1700000000000_slow.js': "exports.up = (pgm) => { pgm.sql('select pg_sleep(4)'); };\n" },
    );
    await twoRunners('pgmigrations');
    expect(await db.applied('pgmigrations')).toEqual(['1700000000000_slow']);
  });
});

const typeorm = await installTypeorm();

describe.skipIf(Boolean(typeorm.skip))('TypeORM app through the CLI', () => {
  const cls = (name: string, up: string) =>
    `module.exports = class ${name} {\n  async up(q) { await q.query(${JSON.stringify(up)}); }\n  async down(q) {}\n};\n`;
  const typeormApp = (extra: Record<string, string> = {}) =>
    makeToolApp(
      {
        name: 'server',
        private: true,
        scripts: { start: 'node index.js', 'migration:run': 'typeorm migration:run -d data-source.js' },
        dependencies: { typeorm: '^1', pg: '^8' },
      },
      {
        'data-source.js': `const { DataSource } = require('typeorm');\nexports.default = new DataSource({ type: 'postgres', url: process.env.DATABASE_URL, migrations: ['migrations/*.js'] });\n`,
        'migrations/1700000000000-CreateUser.js': cls('CreateUser1700000000000', 'create table users (id int)'),
        ...extra,
      },
      typeorm.nodeModules,
    );

  it('status, migrate and rollback in TypeORM names, from its migrations table', async () => {
    app = typeormApp();
    const before = doc((await cli(['migrate', 'status', '--json'])).stdout);
    expect(before).toMatchObject({
      pending: ['CreateUser1700000000000'],
      tool: { id: 'typeorm', table: 'migrations' },
    });
    const up = await cli(['migrate', '--json']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(doc(up.stdout)).toMatchObject({ applied: ['CreateUser1700000000000'] });
    const down = await cli(['rollback', '--yes', '--json']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(doc(down.stdout)).toMatchObject({ reverted: ['CreateUser1700000000000'] });
  });

  it('two runners at once: one migrates, the other exits 5', async () => {
    app = typeormApp({ 'migrations/1700000000001-Slow.js': cls('Slow1700000000001', 'select pg_sleep(4)') });
    await twoRunners('migrations');
    expect(await db.applied('migrations')).toEqual(['CreateUser1700000000000', 'Slow1700000000001']);
  });
});

describe('Prisma app through the CLI', () => {
  it('status reads _prisma_migrations; rollback is a usage error saying Prisma has none', async () => {
    app = makeApp({
      'api/package.json': JSON.stringify({ name: 'api', private: true, devDependencies: { prisma: '^6' } }),
      'api/prisma/schema.prisma': 'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n',
      'api/prisma/migrations/20250101120000_init/migration.sql': 'CREATE TABLE "User" ("id" SERIAL);\n',
    });
    const status = await cli(['migrate', 'status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(doc(status.stdout)).toMatchObject({
      pending: ['20250101120000_init'],
      tool: { id: 'prisma', package: 'api', table: '_prisma_migrations' },
    });
    const human = await cli(['migrate', 'status']);
    expect(human.stdout).toMatch(/20250101120000_init\s+pending/);
    // refused for what it is, before rollback's confirmation (which CI cannot give)
    const down = await cli(['rollback', '--json']);
    expect(down.exitCode).toBe(2);
    expect(hasStackTrace(down.stderr)).toBe(false);
    expect((doc(down.stdout).error as { message: string }).message).toBe(
      'Prisma has no rollback: `prisma migrate` only applies migrations.',
    );
  });
});
