import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { createDatabase, type TestDatabase } from '../integration/migrate-setup.js';
import { BIN, type CliResult, opsctl } from './cli.js';
import { machinePostgresUrl, startTestPostgres } from './postgres.js';

/** The example app's module (ESM, key per call from ENCRYPTION_KEY or its second argument). */
export const EXAMPLE_MODULE = resolve(import.meta.dirname, '../../examples/shop/backend/utils/encryption.js');
/** A CommonJS module that reads APP_DATA_KEY once, at load time (base64 keys; exports seal/open). */
export const LOAD_TIME_MODULE = resolve(import.meta.dirname, '../fixtures/keys/load-time-key.cjs');

type Seal = (text: string) => string;
type Open = (payload: string) => string;

/** encrypt/decrypt with the example module under a given key (its functions take the key as an argument). */
export async function exampleCodec(key: string): Promise<{ seal: Seal; open: Open }> {
  const mod = (await import(EXAMPLE_MODULE)) as {
    encryptData: (t: string, k: string) => string;
    decryptData: (p: string, k: string) => string;
  };
  return { seal: (t) => mod.encryptData(t, key), open: (p) => mod.decryptData(p, key) };
}

/** The load-time module's functions under a given key (through its `withKey`, the same code). */
export function loadTimeCodec(key: string): { seal: Seal; open: Open } {
  const previous = process.env.APP_DATA_KEY;
  process.env.APP_DATA_KEY = key; // it reads the variable when loaded
  try {
    const mod = createRequire(import.meta.url)(LOAD_TIME_MODULE) as {
      withKey: (k: string) => { seal: Seal; open: Open };
    };
    return mod.withKey(key);
  } finally {
    if (previous === undefined) delete process.env.APP_DATA_KEY;
    else process.env.APP_DATA_KEY = previous;
  }
}

export const hexKey = () => randomBytes(32).toString('hex');
export const base64Key = () => randomBytes(32).toString('base64');

/** Every form a key could leak in: as given, hex, base64, base64url of its bytes. */
export function keyForms(key: string): string[] {
  const bytes = /^[0-9a-f]{64}$/i.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64');
  return [key, bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
}

/** Fail when any form of any key appears in the text. */
export function expectNoKeys(text: string, keys: string[]): void {
  for (const key of keys) for (const form of keyForms(key)) expect(text.includes(form), 'a key leaked').toBe(false);
}

/** A PostgreSQL for one test file: the machine's (OPSCTL_TEST_PG_URL) when set, else an embedded one. */
export async function startServer(): Promise<{ url: string; stop(): Promise<void> }> {
  const machine = machinePostgresUrl();
  return machine ? { url: machine, stop: async () => {} } : startTestPostgres();
}

/** An app folder (config + .env) over a fresh database. */
export interface KeysApp {
  root: string;
  db: TestDatabase;
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** column values by id, in id order */
  values(sql: string): Promise<Map<string, string | null>>;
  close(): Promise<void>;
}

export async function createKeysApp(
  serverUrl: string,
  config: string,
  dotenv: Record<string, string>,
): Promise<KeysApp> {
  const db = await createDatabase(serverUrl);
  const root = mkdtempSync(join(tmpdir(), 'opsctl-keys-'));
  writeFileSync(join(root, 'opsctl.config.yaml'), config);
  writeFileSync(
    join(root, '.env'),
    Object.entries(dotenv)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return {
    root,
    db,
    run: (args, env = {}) =>
      opsctl(['-C', root, ...args], { env: { DATABASE_URL: db.url, ...env }, timeoutMs: 120_000 }),
    async values(sql) {
      const rows = await db.query<{ id: string; v: string | null }>(sql);
      return new Map(rows.map((r) => [String(r.id), r.v]));
    },
    async close() {
      rmSync(root, { recursive: true, force: true });
      await db.drop();
    },
  };
}

/** `count` rows of plaintexts `user<i>@example.com`, every `nullEvery`-th NULL, encrypted with `seal`. */
export function plaintexts(count: number, nullEvery: number): Array<string | null> {
  return Array.from({ length: count }, (_, i) => (i % nullEvery === 0 ? null : `user${i}@example.com`));
}

/** The variables the keys tests set (the apps' keyEnv, the new keys): never taken from the caller. */
const KEY_VARIABLES = ['ENCRYPTION_KEY', 'APP_DATA_KEY', 'NEW_KEY', 'NEXT', 'PROBE_KEY'];

/** The config of an app whose orders.email is encrypted by the example module. */
export const EXAMPLE_CONFIG = `encryption:\n  module: ${EXAMPLE_MODULE}\n  columns: [orders.email]\n`;

/**
 * A PostgreSQL for the test file (started in beforeAll, stopped in afterAll) and the app of each test (its folder and
 * database removed after the test, whatever happened).
 */
export function keysTestBed() {
  let server: { url: string; stop(): Promise<void> } | undefined;
  let current: KeysApp | undefined;
  const saved: Record<string, string | undefined> = {};
  beforeAll(async () => {
    // hermetic: the caller's key variables would win over the app's .env in the processes the tests start
    for (const name of KEY_VARIABLES) {
      saved[name] = process.env[name];
      delete process.env[name];
    }
    server = await startServer();
  }, 120_000);
  afterAll(async () => {
    for (const name of KEY_VARIABLES) if (saved[name] !== undefined) process.env[name] = saved[name];
    await server?.stop();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  const app = async (config: string, dotenv: Record<string, string>) => {
    current = await createKeysApp(server!.url, config, dotenv);
    return current;
  };
  return {
    app,
    /** orders (id int primary key, email text): `rows` values encrypted by the example module with `key`. */
    async exampleApp(key: string, rows: number, nullEvery: number, config = EXAMPLE_CONFIG) {
      const a = await app(config, { ENCRYPTION_KEY: key });
      const { seal } = await exampleCodec(key);
      const plains = plaintexts(rows, nullEvery);
      await a.db.query('create table orders (id int primary key, email text)');
      await a.db.query('insert into orders select i, e from unnest($1::int[], $2::text[]) as t(i, e)', [
        plains.map((_, i) => i + 1),
        plains.map((p) => (p === null ? null : seal(p))),
      ]);
      return { a, expected: new Map(plains.map((p, i) => [String(i + 1), p])) };
    },
  };
}

/** `opsctl -C <app> keys …` as a child to signal (push it to a trackChildren list); `stdout()` so far. */
export function spawnKeys(app: KeysApp, args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [BIN, '-C', app.root, 'keys', ...args], {
    env: { ...process.env, DATABASE_URL: app.db.url, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.resume();
  return { child, stdout: () => stdout };
}

/** A login role for one test (roles outlive databases): `body` gets its URL to the app's database; dropped after. */
export async function withRole(app: KeysApp, body: (role: string, url: string) => Promise<void>): Promise<void> {
  const role = `opsctl_role_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(16).toString('hex');
  await app.db.query(`create role ${role} login password '${password}'`);
  try {
    const url = new URL(app.db.url);
    url.username = role;
    url.password = password;
    await body(role, url.toString());
  } finally {
    await app.db.query(`reassign owned by ${role} to current_user`);
    await app.db.query(`drop owned by ${role}`);
    await app.db.query(`drop role ${role}`);
  }
}
