import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';
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

describe('detection edges', () => {
  it('an app root whose package.json has no scripts but knex and a knexfile: knex runs it, never opsctl', async () => {
    app = makeToolApp(
      { name: 'api', private: true, dependencies: { knex: '^3', pg: '^8' } },
      {
        'knexfile.js': "module.exports = { client: 'pg', connection: process.env.DATABASE_URL };\n",
        [`migrations/${KNEX_FILE}`]: knexMigration,
      },
    );
    const status = await cli(['migrate', 'status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect((doc(status.stdout).tool as { id: string }).id).toBe('knex');
    expect(doc(status.stdout).pending).toEqual([KNEX_FILE]);

    const run = await cli(['migrate', '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(doc(run.stdout).applied).toEqual([KNEX_FILE]);
    expect(await db.applied('knex_migrations')).toEqual([KNEX_FILE]);
    expect(await db.hasTable('opsctl_migrations')).toBe(false);
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
