import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresCheck } from '../../src/checks/postgres.js';
import { runCheck } from '../../src/checks/run-check.js';
import { loadConfig } from '../../src/config/load.js';
import { createRunner } from '../../src/process/runner.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { machinePostgresUrl, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { freePort, type HungServer, startHungServer } from '../helpers/tcp.js';

let db: TestPostgres;
let app: string; // an empty app folder: zero config, no packages
let hung: HungServer;

beforeAll(async () => {
  [db, hung] = await Promise.all([startTestPostgres(), startHungServer()]);
  app = mkdtempSync(join(tmpdir(), 'opsctl-pgcheck-'));
  chmodSync(app, 0o755);
});
afterAll(async () => {
  await Promise.all([db?.stop(), hung?.close()]);
  rmSync(app, { recursive: true, force: true });
});

/** Run the real check as doctor does, with DATABASE_URL as the only source. */
async function check(url: string | undefined, timeoutMs = 3000) {
  const config = loadConfig({ cwd: app, processEnv: { DATABASE_URL: url } });
  return runCheck(postgresCheck, { config, runner: createRunner(), timeoutMs, now: () => new Date() });
}

const withUrl = (url: string, change: (u: URL) => void) => {
  const u = new URL(url);
  change(u);
  return u.toString();
};

describe('postgres check against a real PostgreSQL', () => {
  it('passes, naming host:port/db and the server version, never the password', async () => {
    const report = await check(db.url);
    expect(report.status).toBe('pass');
    expect(report.message).toMatch(/^127\.0\.0\.1:\d+\/app as postgres: PostgreSQL \d+\.\d+/);
    expect(JSON.stringify(report)).not.toContain(db.password);
  });

  it('sets application_name to opsctl (seen in the startup packet)', async () => {
    await check(`postgres://postgres:appname-pw-55@127.0.0.1:${hung.port}/app`, 500);
    expect(hung.received()).toContain('application_name\0opsctl\0');
  });

  it('wrong password: its own message and hint, exit path through DATABASE_URL', async () => {
    const report = await check(withUrl(db.url, (u) => (u.password = 'not-the-right-pw-91')));
    expect(report.status).toBe('fail');
    expect(report.message).toMatch(/rejected the password for user "postgres"/);
    expect(report.hint).toMatch(/DATABASE_URL/);
    expect(JSON.stringify(report)).not.toContain('not-the-right-pw-91');
  });

  it('missing database: names it and suggests createdb', async () => {
    const report = await check(withUrl(db.url, (u) => (u.pathname = '/no_such_db_42')));
    expect(report.status).toBe('fail');
    expect(report.message).toMatch(/database "no_such_db_42" does not exist/);
    expect(report.hint).toMatch(/createdb .*no_such_db_42/);
  });

  it('server down (nothing on the port): not running', async () => {
    const port = await freePort();
    const report = await check(withUrl(db.url, (u) => (u.port = String(port))));
    expect(report.status).toBe('fail');
    expect(report.message).toMatch(`PostgreSQL is not running at 127.0.0.1:${port} (connection refused)`);
    expect(report.hint).toMatch(/pg_isready/);
  });

  it('DNS failure', async () => {
    const report = await check(withUrl(db.url, (u) => (u.hostname = 'no-such-host.invalid')));
    expect(report.status).toBe('fail');
    expect(report.message).toMatch(/cannot resolve host "no-such-host.invalid"/);
  });

  it('TLS asked for but the server has none', async () => {
    const report = await check(`${db.url}?sslmode=require`);
    expect(report.status).toBe('fail');
    expect(report.message).toMatch(/does not support TLS/);
    expect(report.hint).toMatch(/sslmode/);
  });

  it('a hung server (accepts TCP, never answers) fails within the timeout', async () => {
    const before = hung.connections();
    const started = performance.now();
    const report = await check(`postgres://postgres:hung-pw-77@127.0.0.1:${hung.port}/app`, 1000);
    const took = performance.now() - started;
    expect(report.status).toBe('fail');
    expect(report.message).toMatch(/did not answer within \d+ ms/);
    expect(hung.connections()).toBeGreaterThan(before);
    expect(took).toBeLessThan(2000);
    // the client destroyed its socket: nothing is left half-open on the server side
    await vi.waitFor(() => expect(hung.openSockets()).toBe(0), { timeout: 1000 });
  });

  it('nothing configured (no URL, no embedded database, no migrations): skip, saying why', async () => {
    const report = await check(undefined);
    expect(report.status).toBe('skip');
    expect(report.message).toMatch(/no database configured/);
    expect(report.message).toMatch(/DATABASE_URL/);
  });

  it('nothing configured under --env production: skip too', async () => {
    const report = await runCheck(postgresCheck, {
      config: loadConfig({ cwd: app, env: 'production', processEnv: {} }),
      runner: createRunner(),
      timeoutMs: 3000,
      now: () => new Date(),
    });
    expect(report.status).toBe('skip');
  });

  describe('an app with migrations needs a database', () => {
    let withMigrations: string;
    beforeAll(() => {
      withMigrations = mkdtempSync(join(tmpdir(), 'opsctl-pgcheck-mig-'));
      mkdirSync(join(withMigrations, 'migrations'));
      writeFileSync(join(withMigrations, 'migrations', '0001_init.sql'), 'create table t (id int);\n');
    });
    afterAll(() => rmSync(withMigrations, { recursive: true, force: true }));

    it('embedded not started: fail, saying `opsctl db start`', async () => {
      const config = loadConfig({ cwd: withMigrations, processEnv: {} });
      const report = await runCheck(postgresCheck, {
        config,
        runner: createRunner(),
        timeoutMs: 3000,
        now: () => new Date(),
      });
      expect(report.status).toBe('fail');
      expect(report.message).toMatch(/embedded PostgreSQL has not been started/);
      expect(report.hint).toMatch(/opsctl db start/);
    });

    it('under --env production: fail, saying how to configure one', async () => {
      const config = loadConfig({ cwd: withMigrations, env: 'production', processEnv: {} });
      const report = await runCheck(postgresCheck, {
        config,
        runner: createRunner(),
        timeoutMs: 3000,
        now: () => new Date(),
      });
      expect(report.status).toBe('fail');
      expect(report.message).toMatch(/no database is configured for --env production/);
      expect(report.hint).toMatch(/DATABASE_URL/);
    });
  });
});

describe('opsctl doctor --only postgres (the built CLI)', () => {
  const doctor = (url: string, extra: string[] = []) =>
    opsctl(['-C', app, 'doctor', '--only', 'postgres', '--json', ...extra], {
      env: { DATABASE_URL: url, REDIS_URL: undefined },
    });

  it('green: exit 0, JSON check row, no password anywhere', async () => {
    const res = await doctor(db.url);
    expect(res.exitCode).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'doctor', ok: true, exitCode: 0 });
    expect(doc.checks).toEqual([expect.objectContaining({ id: 'postgres', status: 'pass' })]);
    expect(res.stdout + res.stderr).not.toContain(db.password);
  });

  it('wrong password: exit 1, and neither password is printed', async () => {
    const wrong = withUrl(db.url, (u) => (u.password = 'cli-wrong-pw-3141'));
    const res = await doctor(wrong);
    expect(res.exitCode).toBe(1);
    const row = JSON.parse(res.stdout).checks[0];
    expect(row).toMatchObject({ id: 'postgres', status: 'fail' });
    expect(row.message).toMatch(/rejected the password/);
    for (const secret of ['cli-wrong-pw-3141', db.password]) expect(res.stdout + res.stderr).not.toContain(secret);
  });

  it('hung server with --timeout 1000: exit 1 in bounded time, no stack trace', async () => {
    const started = performance.now();
    const res = await doctor(`postgres://postgres:hung-cli-pw-88@127.0.0.1:${hung.port}/app`, ['--timeout', '1000']);
    expect(res.exitCode).toBe(1);
    expect(performance.now() - started).toBeLessThan(6000); // node start-up + 1 s check
    expect(JSON.parse(res.stdout).checks[0].message).toMatch(/did not answer/);
    expect(res.stdout + res.stderr).not.toContain('hung-cli-pw-88');
    expect(hasStackTrace(res.stderr)).toBe(false);
  });
});

describe.skipIf(!machinePostgresUrl())('postgres check against OPSCTL_TEST_PG_URL', () => {
  it('passes', async () => {
    const report = await check(machinePostgresUrl()!);
    expect(report).toMatchObject({ status: 'pass' });
  });

  it('missing database is reported as such', async () => {
    const report = await check(withUrl(machinePostgresUrl()!, (u) => (u.pathname = '/opsctl_absent_db')));
    expect(report.message).toMatch(/database "opsctl_absent_db" does not exist/);
  });
});
