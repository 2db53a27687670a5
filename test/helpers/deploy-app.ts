import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { expect } from 'vitest';
import { type CliResult, opsctl } from './cli.js';
import { killPm2 } from './pm2-kill.js';
import { startTestPostgres, type TestPostgres } from './postgres.js';
import { hasRedisServer, startRedis, type TestRedis } from './redis.js';
import { freePort } from './tcp.js';

/** A copy of examples/shop in a temp dir, on free ports, with a database of its own, for real deploys. */

const EXAMPLE = fileURLToPath(new URL('../../examples/shop', import.meta.url));
const EXCLUDED = new Set(['node_modules', '.opsctl', 'dist']);
/** Secrets the app is given; no opsctl output or kept file may show them. */
export const PASSWORD = `pw-${process.pid}-Zq9x`;
export const TOKEN = `tok-${process.pid}-Hh7k2`;

export interface ShopApp {
  dir: string;
  /** The environment opsctl runs with (DATABASE_URL with PASSWORD, API_TOKEN, CI). */
  env: Record<string, string>;
  ports: { backend: number; frontend: number };
  run(args: string[], options?: { env?: Record<string, string>; timeoutMs?: number }): Promise<CliResult>;
  /** Kill the app's PM2 daemon, drop its database, remove the copy. */
  cleanup(): Promise<void>;
}

/** The embedded cluster's generated password, when one is used: it must never show either. */
const extraSecrets: string[] = [];

/**
 * The server to create the app's database on: OPSCTL_TEST_PG_URL (CI's PostgreSQL), else a throwaway embedded
 * cluster of the app's own, so the tests need no PostgreSQL on the machine.
 */
async function adminServer(): Promise<{ url: URL; embedded?: TestPostgres }> {
  if (process.env.OPSCTL_TEST_PG_URL) {
    const url = new URL(process.env.OPSCTL_TEST_PG_URL);
    if (!url.username) url.username = process.env.PGUSER || process.env.USER || userInfo().username;
    return { url };
  }
  const embedded = await startTestPostgres();
  extraSecrets.push(embedded.password);
  return { url: new URL(embedded.url), embedded };
}

export async function createShopApp(name: string): Promise<ShopApp> {
  const dir = mkdtempSync(join(tmpdir(), `opsctl-${name}-`));
  cpSync(EXAMPLE, dir, { recursive: true, filter: (src) => !EXCLUDED.has(basename(src)) });
  const ports = { backend: await freePort(), frontend: await freePort() };
  const config = join(dir, 'opsctl.config.yaml');
  writeFileSync(
    config,
    readFileSync(config, 'utf8')
      .replace('port: 4000', `port: ${ports.backend}`)
      .replace('port: 3000', `port: ${ports.frontend}`),
  );
  const server = await adminServer();
  const admin = new pg.Client({ connectionString: server.url.toString() });
  await admin.connect();
  const dbName = `opsctl_${name.replace(/\W/g, '_')}_${process.pid}`;
  await admin.query(`create database ${dbName}`);
  const url = new URL(server.url);
  // the machine's Postgres trusts local connections; the password must still never show
  if (!server.embedded) url.password = PASSWORD;
  url.pathname = `/${dbName}`;
  // the backend's /health pings Redis when REDIS_URL is set; without redis-server it runs without a cache
  const redis: TestRedis | undefined = hasRedisServer() ? await startRedis() : undefined;
  const env: Record<string, string> = { DATABASE_URL: url.toString(), API_TOKEN: TOKEN, CI: '1' };
  if (redis) env.REDIS_URL = redis.url;
  return {
    dir,
    env,
    ports,
    run: (args, options = {}) =>
      opsctl(['-C', dir, ...args], {
        // PM2's home is the app's own .opsctl/pm2 (cleanup kills that daemon) unless a test sets one
        env: { PM2_HOME: undefined, ...env, ...options.env },
        timeoutMs: options.timeoutMs ?? 90_000,
      }),
    async cleanup() {
      // every step runs even when one fails (a loaded machine can time out pm2 or pg_ctl): nothing may be left behind
      const failures: unknown[] = [];
      const step = async (fn: () => unknown) => {
        try {
          await fn();
        } catch (error) {
          failures.push(error);
        }
      };
      const home = join(dir, '.opsctl', 'pm2');
      await step(() => killPm2(home));
      await step(() => admin.query(`drop database if exists ${dbName} with (force)`));
      await step(() => admin.end());
      await step(() => redis?.stop());
      await step(() => server.embedded?.stop());
      rmSync(dir, { recursive: true, force: true });
      if (failures.length) throw new AggregateError(failures, 'cleaning up the test app failed');
    },
  };
}

/** GET /health on 127.0.0.1: the status, or 0 when nothing answers. */
export async function health(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 0;
  }
}

export function assertNoSecrets(...texts: string[]): void {
  for (const text of texts) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
    for (const secret of extraSecrets) expect(text).not.toContain(secret);
  }
}

export function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

/** `deploy --json`'s document, as far as these tests read it. */
export type DeployJson = {
  exitCode: number;
  packages: Array<{
    name: string;
    steps: Array<{ step: string; status: string; reason?: string; durationMs?: number }>;
    logTail?: string[];
    rolledBackTo?: string;
  }>;
};

/** A package's steps as `{ step: status }`. */
export const steps = (doc: DeployJson, pkg: string) =>
  Object.fromEntries(doc.packages.find((p) => p.name === pkg)!.steps.map((s) => [s.step, s.status]));
