import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { connectClient } from '../../src/db/migrate/connect.js';
import { opsctl } from '../helpers/cli.js';
import { machinePostgresUrl, startTestPostgres } from '../helpers/postgres.js';

/** A PostgreSQL server to test against: the embedded one, and also OPSCTL_TEST_PG_URL when set. */
export interface TestServer {
  label: string;
  start(): Promise<{ url: string; stop(): Promise<void> }>;
}

/** Start `server` once for the enclosing describe block and stop it after; returns its URL once started. */
export function useServer(server: TestServer): () => string {
  let started: { url: string; stop(): Promise<void> } | undefined;
  beforeAll(async () => {
    started = await server.start();
  });
  afterAll(async () => started?.stop());
  return () => started!.url;
}

export function testServers(): TestServer[] {
  const servers: TestServer[] = [{ label: 'embedded', start: startTestPostgres }];
  const machine = machinePostgresUrl();
  if (machine)
    servers.push({ label: 'OPSCTL_TEST_PG_URL', start: async () => ({ url: machine, stop: async () => {} }) });
  return servers;
}

/** A fresh database on the server, so tests are isolated; `drop()` removes it. */
export interface TestDatabase {
  url: string;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>;
  /** Names in the state table, in name order (empty when it does not exist). */
  applied(table?: string): Promise<string[]>;
  /** Does a table exist (in public)? */
  hasTable(name: string): Promise<boolean>;
  drop(): Promise<void>;
}

export async function createDatabase(serverUrl: string): Promise<TestDatabase> {
  const name = `opsctl_mig_${randomBytes(6).toString('hex')}`;
  const admin = await connectClient(serverUrl);
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const client = await connectClient(url.toString());
  // not 'opsctl migrate': tests look for the runners' sessions by that name
  await client.query("set application_name = 'opsctl-test'");
  const query = async <R extends pg.QueryResultRow>(sql: string, values?: unknown[]) =>
    (await client.query<R>(sql, values)).rows;
  return {
    url: url.toString(),
    query,
    async applied(table = 'opsctl_migrations') {
      const [exists] = await query<{ t: string | null }>('select to_regclass($1)::text as t', [table]);
      if (!exists?.t) return [];
      return (await query<{ name: string }>(`select name from ${table} order by name`)).map((r) => r.name);
    },
    async hasTable(table) {
      const [row] = await query<{ t: string | null }>('select to_regclass($1)::text as t', [`public.${table}`]);
      return Boolean(row?.t);
    },
    async drop() {
      await client.end();
      const again = await connectClient(serverUrl);
      try {
        await again.query(`drop database if exists ${name} with (force)`);
      } finally {
        await again.end();
      }
    },
  };
}

/** A temporary app folder holding `files` (paths relative to the app root). */
export function makeApp(files: Record<string, string>): {
  root: string;
  write(path: string, text: string): void;
  remove(): void;
} {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-mig-'));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  for (const [path, text] of Object.entries(files)) write(path, text);
  return { root, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/** `count` SQL migrations, each creating table t<i> and inserting one row. */
export function manyMigrations(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 1; i <= count; i++) {
    const v = String(i).padStart(4, '0');
    files[`migrations/${v}_table_${i}.sql`] =
      `-- up\ncreate table t${i} (id int primary key);\ninsert into t${i} values (${i});\n-- down\ndrop table t${i};\n`;
  }
  return files;
}

/** The env for a CLI run against `url`, independent of the developer's environment. */
export function cliEnv(url: string): Record<string, string | undefined> {
  return { DATABASE_URL: url, OPSCTL_ENV: undefined, CI: '1' };
}

/** The app a test made (opsctl's own layout or an app tool's), removed after the test. */
type TestApp = ReturnType<typeof makeApp>;

/**
 * For each test: a fresh database on one server for the file (the machine's, OPSCTL_TEST_PG_URL, when set, else an
 * embedded one), and the app the test sets as `t.app`; both removed after it. `cli` runs opsctl in that app
 * against that database, as in CI; `doc` reads its JSON document.
 */
export function useAppDatabase<App extends TestApp = TestApp>() {
  const serverUrl = useServer(testServers().at(-1)!);
  const t = {} as { db: TestDatabase; app?: App };
  beforeEach(async () => {
    t.db = await createDatabase(serverUrl());
  });
  afterEach(async () => {
    await t.db.drop();
    t.app?.remove();
    t.app = undefined;
  });
  const cli = (args: string[]) => opsctl(['-C', t.app!.root, ...args], { env: cliEnv(t.db.url), timeoutMs: 120_000 });
  const doc = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
  return { t, cli, doc };
}
