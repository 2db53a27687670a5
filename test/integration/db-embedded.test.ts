import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { hasScript } from '../helpers/pty.js';
import { startPty } from '../helpers/pty-session.js';

/**
 * `opsctl db start|stop|status|url` through the built binary, against a real embedded PostgreSQL in a
 * temp app folder. One cluster for the whole file (initdb takes a few seconds); steps run in order.
 */
let app: string;
let pgDir: string;
const NO_DB_ENV = { DATABASE_URL: undefined, OPSCTL_ENV: undefined, REDIS_URL: undefined };
const db = (...args: string[]) => opsctl(['-C', app, ...args], { env: NO_DB_ENV, timeoutMs: 120_000 });
const state = () =>
  JSON.parse(readFileSync(join(pgDir, 'opsctl.json'), 'utf8')) as { port: number; password: string; user: string };
const outputOf = (res: { stdout: string; stderr: string }) => res.stdout + res.stderr;

async function query(sql: string): Promise<unknown[]> {
  const { port, password, user } = state();
  const client = new pg.Client({ host: '127.0.0.1', port, user, password, database: 'app' });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(() => {
  if (!existsSync(resolve(import.meta.dirname, '../../dist/cli/index.js'))) {
    throw new Error('dist/ is missing or stale: run `npm run build` first (npm test does).');
  }
  app = mkdtempSync(join(tmpdir(), 'opsctl-db-'));
  chmodSync(app, 0o755); // as root the server runs as `postgres`, which must be able to enter the app folder
  pgDir = join(app, '.opsctl', 'pg');
});
afterAll(async () => {
  if (app && existsSync(join(pgDir, 'data'))) await db('db', 'stop');
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('opsctl db (embedded PostgreSQL)', () => {
  it('status before the first start: not initialised, exit 0', async () => {
    const res = await db('db', 'status', '--json');
    expect(res.exitCode).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      command: 'db status',
      running: false,
      initialised: false,
      url: null,
    });
  });

  it('url before the first start: exit 3 with what happened and what to do', async () => {
    const res = await db('db', 'url');
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toMatch(/✖ No database URL/);
    expect(res.stderr).toMatch(/→ Run `opsctl db start`/);
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it('start initialises a password-protected cluster and creates the app database', async () => {
    const res = await db('db', 'start');
    expect(res.exitCode, res.stderr).toBe(0);
    const { password, port } = state();
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(res.stderr).toMatch(`PostgreSQL is running on 127.0.0.1:${port} (database created)`);
    expect(res.stdout.trim()).toBe(`postgres://postgres:****@127.0.0.1:${port}/app`);
    expect(outputOf(res)).not.toContain(password);
    expect(statSync(join(pgDir, 'opsctl.json')).mode & 0o777).toBe(0o600);
    expect(await query('select current_database() as db')).toEqual([{ db: 'app' }]);
  });

  it('the cluster refuses a wrong password (password auth is on)', async () => {
    const { port } = state();
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: 'not-it-123',
      database: 'app',
    });
    await expect(client.connect()).rejects.toMatchObject({ code: '28P01' });
  });

  it('start twice is a no-op that says so', async () => {
    const res = await db('db', 'start');
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toMatch(/already running on 127\.0\.0\.1:\d+; nothing to do/);
    expect(outputOf(res)).not.toContain(state().password);
  });

  it('status --json: running, port, data dir, redacted url', async () => {
    const res = await db('db', 'status', '--json');
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({
      ok: true,
      exitCode: 0,
      running: true,
      port: state().port,
      dataDir: join(pgDir, 'data'),
    });
    expect(doc.url).toBe(`postgres://postgres:****@127.0.0.1:${state().port}/app`);
    expect(res.stdout).not.toContain(state().password);
  });

  it('url is redacted; --show-password prints the real, working URL', async () => {
    const redacted = await db('db', 'url');
    expect(redacted.stdout.trim()).toBe(`postgres://postgres:****@127.0.0.1:${state().port}/app`);
    const json = await db('db', 'url', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ command: 'db url', ok: true, url: redacted.stdout.trim() });
    expect(json.stdout).not.toContain(state().password);
    const shown = await db('db', 'url', '--show-password');
    expect(shown.exitCode).toBe(0);
    const url = shown.stdout.trim();
    expect(new URL(url).password).toBe(encodeURIComponent(state().password));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.end();
  });

  it('doctor uses the embedded database when nothing else is configured', async () => {
    const res = await db('doctor', '--only', 'postgres', '--json');
    expect(res.exitCode).toBe(0);
    expect(JSON.parse(res.stdout).checks[0]).toMatchObject({ id: 'postgres', status: 'pass' });
    expect(outputOf(res)).not.toContain(state().password);
  });

  it('stop asks first when a session of the app is connected, naming it; n leaves it running, --yes stops', async () => {
    const { port, password, user } = state();
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user,
      password,
      database: 'app',
      application_name: 'shop-backend',
    });
    client.on('error', () => {}); // the server ending the session at the stop below
    await client.connect();
    try {
      const pid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
      const named = `shop-backend (1 session: pid ${pid})`;
      const refused = await db('db', 'stop');
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain(
        `⚠ 1 session(s) are connected to postgres@127.0.0.1:${port}/app (embedded): ${named}`,
      );
      expect(refused.stderr).toContain('→ Pass --yes to confirm.');
      if (hasScript) {
        const no = startPty(app, ['db', 'stop'], { ...NO_DB_ENV, CI: undefined });
        try {
          await no.waitFor(/\(y\/N\)/);
          expect(no.output()).toContain(
            `Stop PostgreSQL at postgres@127.0.0.1:${port}/app (embedded), ending 1 connected session(s)? (y/N)`,
          );
          no.type('n\r');
          expect(await no.exited()).toBe(130);
        } finally {
          no.kill();
        }
      }
      expect(JSON.parse((await db('db', 'status', '--json')).stdout).running).toBe(true);
      expect((await client.query('select 1 as one')).rows).toEqual([{ one: 1 }]);

      const yes = await db('db', 'stop', '--yes', '--json');
      expect(yes.exitCode).toBe(0);
      expect(JSON.parse(yes.stdout)).toMatchObject({
        wasRunning: true,
        connected: [{ applicationName: 'shop-backend', pids: [pid], count: 1 }],
      });
      expect(outputOf(yes)).not.toContain(password);
    } finally {
      await client.end().catch(() => {});
    }
    expect((await db('db', 'start')).exitCode).toBe(0);
  });

  it('stop, stop again, then doctor says not running with the `opsctl db start` hint', async () => {
    await query('create table kept (v text); insert into kept values ($$still here$$)');
    const stop = await db('db', 'stop');
    expect(stop.exitCode).toBe(0);
    expect(stop.stderr).toMatch(/PostgreSQL stopped/);
    const again = await db('db', 'stop');
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/not running; nothing to do/);
    expect(JSON.parse((await db('db', 'status', '--json')).stdout)).toMatchObject({
      running: false,
      initialised: true,
    });

    const doctor = await db('doctor', '--only', 'postgres', '--json');
    expect(doctor.exitCode).toBe(1);
    const row = JSON.parse(doctor.stdout).checks[0];
    expect(row.message).toMatch(/^the embedded PostgreSQL is not running \(it was last on port \d+\)$/);
    expect(row.hint).toMatch(/opsctl db start/);

    // another server on the stopped cluster's port must not be mistaken for it (nor blamed for the password)
    const port = JSON.parse((await db('db', 'status', '--json')).stdout).port as number;
    const squatter = createServer((socket) => socket.destroy());
    await new Promise<void>((done) => squatter.listen(port, '127.0.0.1', done));
    try {
      const held = JSON.parse((await db('doctor', '--only', 'postgres', '--json')).stdout).checks[0];
      expect(held.message).toMatch(/^the embedded PostgreSQL is not running/);
    } finally {
      await new Promise((done) => squatter.close(done));
    }
  });

  it('restart after stop keeps the data and the password', async () => {
    const before = state();
    const res = await db('db', 'start');
    expect(res.exitCode, res.stderr).toBe(0);
    expect(state().password).toBe(before.password);
    expect(await query('select v from kept')).toEqual([{ v: 'still here' }]);
  });

  it('a stale postmaster.pid (pid reused by another process) does not block a start', async () => {
    expect((await db('db', 'stop')).exitCode).toBe(0);
    writeFileSync(join(pgDir, 'data', 'postmaster.pid'), `1\n${join(pgDir, 'data')}\n`);
    const res = await db('db', 'start');
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/stale postmaster\.pid/);
    expect(await query('select v from kept')).toEqual([{ v: 'still here' }]);
  });

  it('after a crash (postmaster killed with SIGKILL) start works again', async () => {
    const pid = Number(readFileSync(join(pgDir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await expect.poll(() => isAlive(pid), { timeout: 10_000 }).toBe(false);
    const res = await db('db', 'start');
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await query('select v from kept')).toEqual([{ v: 'still here' }]);
  });

  it('a failing start exits 3 with the last lines of the server log, password-free', async () => {
    expect((await db('db', 'stop')).exitCode).toBe(0);
    const conf = join(pgDir, 'data', 'postgresql.conf');
    const original = readFileSync(conf, 'utf8');
    appendFileSync(conf, '\nshared_buffers = bogus\n');
    try {
      const res = await db('db', 'start');
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toMatch(/✖ The embedded PostgreSQL did not start/);
      expect(res.stderr).toMatch(/→ Last lines of .*postgres\.log/);
      expect(res.stderr).toMatch(/shared_buffers/);
      expect(hasStackTrace(res.stderr)).toBe(false);
      expect(outputOf(res)).not.toContain(state().password);
    } finally {
      writeFileSync(conf, original);
    }
    expect((await db('db', 'start')).exitCode).toBe(0);
  });

  it('every db command is refused under --env production (exit 2, with a hint)', async () => {
    for (const sub of ['start', 'stop', 'status', 'url']) {
      const res = await db('--env', 'production', 'db', sub);
      expect(res.exitCode).toBe(2);
      expect(res.stderr).toMatch(/✖ opsctl db .*not available under --env production/);
      expect(res.stderr).toMatch(/→ /);
    }
  });
});

describe.skipIf(process.getuid?.() !== 0)('opsctl db as root', () => {
  it('an app folder the postgres user cannot enter: exit 3 naming the folder, with a hint', async () => {
    const locked = mkdtempSync(join(tmpdir(), 'opsctl-db-locked-')); // mkdtemp makes it 0700
    try {
      const res = await opsctl(['-C', locked, 'db', 'start'], { env: NO_DB_ENV });
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toMatch(`✖ The "postgres" OS user cannot enter "${locked}"`);
      expect(res.stderr).toMatch(/→ .*chmod o\+x/);
      expect(hasStackTrace(res.stderr)).toBe(false);
    } finally {
      rmSync(locked, { recursive: true, force: true });
    }
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \S+ Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/\(.*\)/, 'x'));
  } catch {
    return false;
  }
}
