import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { freePort } from '../../src/net/free-port.js';
import { createShopApp, type ShopApp } from '../helpers/deploy-app.js';
import { waitFor } from '../helpers/wait.js';

/**
 * The example app (examples/shop) as a user gets it: installed from its lockfiles, built, tested, and the
 * backend run against a real PostgreSQL. The database part needs the machine's Postgres
 * (OPSCTL_TEST_PG_URL, default postgres://127.0.0.1:5432/test) and is skipped, with the reason, without it.
 */

const execFileAsync = promisify(execFile);
const EXAMPLE = fileURLToPath(new URL('../../examples/shop', import.meta.url));
const NPM_CI_TIMEOUT_MS = 45_000; // a cold npm cache downloads pg and ioredis
const NPM_SCRIPT_TIMEOUT_MS = 20_000;
const BACKEND_READY_TIMEOUT_MS = 10_000;
const SHUTDOWN_TIMEOUT_MS = 5_000;
const COPY_EXCLUDED = new Set(['node_modules', '.opsctl', 'dist']);

async function npm(args: string[], cwd: string, timeout = NPM_SCRIPT_TIMEOUT_MS) {
  return execFileAsync('npm', args, {
    cwd,
    timeout,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' },
  });
}

/** The test URL with a user name filled in: pg falls back to $USER, which is unset in some containers. */
function testDatabaseUrl(): string {
  const url = new URL(process.env.OPSCTL_TEST_PG_URL || 'postgres://127.0.0.1:5432/test');
  if (!url.username) url.username = process.env.PGUSER || process.env.USER || userInfo().username;
  return url.toString();
}

async function probePostgres(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    const host = new URL(url).host;
    return `PostgreSQL at ${host} is unreachable (${(err as Error).message}); set OPSCTL_TEST_PG_URL to run the database tests`;
  } finally {
    await client.end().catch(() => {});
  }
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function waitForHealth(base: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + BACKEND_READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`backend exited with ${child.exitCode}:\n${output()}`);
    try {
      const res = await fetch(`${base}/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`backend not healthy within ${BACKEND_READY_TIMEOUT_MS} ms:\n${output()}`);
}

const databaseUrl = testDatabaseUrl();
const postgresUnavailable = await probePostgres(databaseUrl);
if (postgresUnavailable) console.warn(`example-app: skipping the database tests: ${postgresUnavailable}`);

describe('example app (examples/shop)', () => {
  let app: string;
  let backend: string;
  let frontend: string;

  beforeAll(async () => {
    app = mkdtempSync(join(tmpdir(), 'opsctl-shop-'));
    cpSync(EXAMPLE, app, {
      recursive: true,
      filter: (src) => !COPY_EXCLUDED.has(basename(src)) && !src.endsWith('.log'),
    });
    backend = join(app, 'backend');
    frontend = join(app, 'frontend');
    await Promise.all([npm(['ci'], backend, NPM_CI_TIMEOUT_MS), npm(['ci'], frontend, NPM_CI_TIMEOUT_MS)]);
  });

  afterAll(() => {
    if (app) rmSync(app, { recursive: true, force: true });
  });

  it('installs from the lockfiles', () => {
    expect(existsSync(join(backend, 'node_modules', 'pg', 'package.json'))).toBe(true);
    expect(existsSync(join(backend, 'node_modules', 'ioredis', 'package.json'))).toBe(true);
  });

  it('builds the frontend into dist/ with the API URL injected', async () => {
    await execFileAsync('npm', ['run', 'build'], {
      cwd: frontend,
      timeout: NPM_SCRIPT_TIMEOUT_MS,
      env: { ...process.env, API_URL: 'http://api.test:4000' },
    });
    expect(readFileSync(join(frontend, 'dist', 'index.html'), 'utf8')).toContain(
      '<script type="module" src="./app.js">',
    );
    expect(readFileSync(join(frontend, 'dist', 'app.js'), 'utf8')).toContain("const API_URL = 'http://api.test:4000';");
  });

  it('passes the test scripts of both packages', async () => {
    await expect(npm(['test'], backend)).resolves.toBeDefined();
    await expect(npm(['test'], frontend)).resolves.toBeDefined();
  });

  it('backend refuses to start without DATABASE_URL and says why', async () => {
    const env = { ...process.env };
    delete env.DATABASE_URL;
    const result = await execFileAsync(process.execPath, ['server.js'], { cwd: backend, env, timeout: 5000 }).catch(
      (err: { code: number; stdout: string }) => err,
    );
    expect(result).toMatchObject({ code: 1 });
    const line = JSON.parse((result as { stdout: string }).stdout.trim().split('\n').at(-1)!);
    expect(line).toMatchObject({ level: 60, msg: expect.stringContaining('DATABASE_URL is not set') });
  });

  // a schema of its own, so parallel test files and earlier runs sharing the database never collide
  async function createProductsSchema(): Promise<{ url: string; drop: () => Promise<void> }> {
    const schema = `shop_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    const sql = async (statements: (client: pg.Client) => Promise<unknown>) => {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await statements(client);
      } finally {
        await client.end();
      }
    };
    await sql(async (client) => {
      await client.query(`create schema ${schema}`);
      await client.query(`set search_path to ${schema}`);
      await client.query(readFileSync(join(backend, 'migrations', '0001_create_products.up.sql'), 'utf8'));
    });
    const url = new URL(databaseUrl);
    url.searchParams.set('options', `-c search_path=${schema}`);
    return {
      url: url.toString(),
      drop: () => sql((client) => client.query(`drop schema if exists ${schema} cascade`)),
    };
  }

  describe.skipIf(!!postgresUnavailable)(
    `backend against PostgreSQL${postgresUnavailable ? ' (skipped: no PostgreSQL)' : ''}`,
    () => {
      it('serves /health and the seeded products, and stops cleanly on SIGTERM', async () => {
        const database = await createProductsSchema();
        let child: ChildProcess | undefined;
        let output = '';
        onTestFinished(async () => {
          if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await database.drop();
        });
        const port = await freePort();
        const env: NodeJS.ProcessEnv = {
          ...process.env,
          DATABASE_URL: database.url,
          PORT: String(port),
          HOST: '127.0.0.1',
          ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        };
        delete env.REDIS_URL;
        child = spawn(process.execPath, ['server.js'], { cwd: backend, env, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout!.on('data', (chunk) => (output += chunk));
        child.stderr!.on('data', (chunk) => (output += chunk));
        const base = `http://127.0.0.1:${port}`;
        await waitForHealth(base, child, () => output);

        const health = await fetch(`${base}/health`);
        expect(health.status).toBe(200);
        expect(await health.json()).toEqual({ status: 'ok', db: 'ok', redis: 'disabled' });

        const products = await fetch(`${base}/api/products`);
        expect(products.status).toBe(200);
        const rows = (await products.json()) as { sku: string; priceCents: number }[];
        expect(rows.map((r) => r.sku)).toEqual(['MUG-001', 'TEE-002', 'STK-003']);
        expect(rows.every((r) => Number.isInteger(r.priceCents))).toBe(true);

        // a kept-alive client: its request after SIGTERM is still answered, on the same connection, which the
        // answer then closes (its next request opens a new one) instead of the connection being cut under it
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        onTestFinished(() => agent.destroy());
        expect((await getVia(agent, `${base}/health`)).status).toBe(200);
        const exited = exitOf(child);
        child.kill('SIGTERM');
        await waitFor('the backend to log "shutting down"', () => output.includes('shutting down'), 5_000, 10);
        const during = await getVia(agent, `${base}/health`);
        expect(during).toMatchObject({ status: 200, reused: true, connection: 'close' });
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`no exit ${SHUTDOWN_TIMEOUT_MS} ms after SIGTERM:\n${output}`)),
            SHUTDOWN_TIMEOUT_MS,
          ),
        );
        expect(await Promise.race([exited, timeout])).toEqual({ code: 0, signal: null });

        const lines = output
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line) as { level: number; msg: string });
        expect(lines.every((l) => typeof l.level === 'number' && typeof l.msg === 'string')).toBe(true);
        expect(lines.at(-1)).toMatchObject({ level: 30, msg: 'shutdown complete' });
      });
    },
  );
});

/** `npm run demo`'s own setup step, on a copy of the app: the secrets it needs, generated once into its .env. */
describe('example app after the demo setup (examples/demo-keys.js), deployed by opsctl', () => {
  const DEMO_KEYS = fileURLToPath(new URL('../../examples/demo-keys.js', import.meta.url));
  let shop: ShopApp;
  const envFile = () => join(shop.dir, '.env');
  const demoKeys = () => execFileAsync(process.execPath, [DEMO_KEYS, shop.dir], { timeout: NPM_SCRIPT_TIMEOUT_MS });
  const keyIn = (text: string) => /^ENCRYPTION_KEY=([0-9a-f]{64})$/m.exec(text)?.[1];

  beforeAll(async () => {
    shop = await createShopApp('example-demo');
    rmSync(envFile(), { force: true }); // a developer's own demo .env is not part of the app
  }, 120_000);
  afterAll(() => shop?.cleanup(), 60_000);

  it('generates ENCRYPTION_KEY once into .env with mode 0600, keeps it on the next run, never prints it', async () => {
    writeFileSync(envFile(), 'LOG_LEVEL=info\nENCRYPTION_KEY=\n'); // empty counts as unset
    const first = await demoKeys();
    const key = keyIn(readFileSync(envFile(), 'utf8'));
    expect(key).toBeDefined();
    expect(readFileSync(envFile(), 'utf8')).toMatch(/^LOG_LEVEL=info$/m);
    expect(statSync(envFile()).mode & 0o777).toBe(0o600);
    const second = await demoKeys();
    expect(keyIn(readFileSync(envFile(), 'utf8'))).toBe(key);
    expect(`${first.stdout}${first.stderr}${second.stdout}${second.stderr}`).not.toContain(key);
  });

  it('answers an order with 2xx after migrate and deploy, and doctor env passes, the running backend included', async () => {
    for (const args of [['migrate'], ['deploy']]) {
      const res = await shop.run(args, { timeoutMs: 240_000 });
      expect(res.exitCode, `${args[0]}: ${res.stderr}`).toBe(0);
    }
    const order = await fetch(`http://127.0.0.1:${shop.ports.backend}/api/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 1, quantity: 2, email: 'ada@example.com' }),
    });
    expect(order.status, await order.clone().text()).toBeGreaterThanOrEqual(200);
    expect(order.status).toBeLessThan(300);
    const doctor = await shop.run(['doctor', '--only', 'env', '--json']);
    const env = JSON.parse(doctor.stdout).checks[0];
    expect(env).toMatchObject({ id: 'env', status: 'pass' });
    expect(env.message).toMatch(
      /^backend: 2 required variables set \(DATABASE_URL, ENCRYPTION_KEY\), and in its running process$/,
    );
  }, 300_000);

  it("doctor's env check fails when the key is removed, naming it and no value", async () => {
    const key = keyIn(readFileSync(envFile(), 'utf8'))!;
    writeFileSync(envFile(), 'LOG_LEVEL=info\n');
    const doctor = await shop.run(['doctor', '--only', 'env', '--json']);
    expect(doctor.exitCode).toBe(1);
    const env = JSON.parse(doctor.stdout).checks[0];
    expect(env).toMatchObject({ status: 'fail', message: 'backend: ENCRYPTION_KEY not set' });
    expect(env.details).toEqual(['backend: ENCRYPTION_KEY not set (required by backend/.env.example)']);
    expect(doctor.stdout + doctor.stderr).not.toContain(key);
  }, 60_000);
});

/** GET through a given agent: the status, whether the connection was a reused one, and the Connection header. */
function getVia(agent: Agent, url: string): Promise<{ status?: number; reused: boolean; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({ status: res.statusCode, reused: req.reusedSocket, connection: res.headers.connection }),
      );
    });
    req.on('error', reject);
  });
}
