import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockKeys } from '../../src/db/migrate/lock.js';
import { runnerApplicationName } from '../../src/db/migrate/runner-name.js';
import { BIN, hasStackTrace, opsctl } from '../helpers/cli.js';
import { hasScript } from '../helpers/pty.js';
import { startPty } from '../helpers/pty-session.js';
import { waitFor } from '../helpers/wait.js';
import { cliEnv, createDatabase, makeApp, type TestDatabase, testServers, useServer } from './migrate-setup.js';

/** `migrate unlock` against a real PostgreSQL, with real processes holding the migration lock. */

const serverUrl = useServer(testServers().at(-1)!);
const KEYS = lockKeys('public', 'opsctl_migrations');

// a separate process that takes the migration lock as a runner would and then sits idle, holding it
const HOLDER = `import { hostname } from 'node:os';
const pg = (await import(process.env.PG_MODULE)).default;
let name = process.env.HOLD_NAME.replace('{pid}', String(process.pid)).replace('{host}', hostname());
while (Buffer.byteLength(name) > 63) name = name.slice(0, -1);
const client = new pg.Client({ connectionString: process.env.HOLD_URL, application_name: name });
client.on('error', () => {});
await client.connect();
await client.query('select pg_advisory_lock($1, $2)', JSON.parse(process.env.HOLD_KEYS));
process.stdout.write('locked\\n');
setInterval(() => {}, 1 << 30);
`;

let db: TestDatabase;
let app: ReturnType<typeof makeApp>;
const children: ChildProcess[] = [];
let proxy: { url: string; close(): void } | undefined;
beforeEach(async () => {
  db = await createDatabase(serverUrl());
  app = makeApp({
    'migrations/0001_a.sql': 'create table a (id int);\n',
    'migrations/0002_slow.sql': 'select pg_sleep(30);\n',
    'holder.mjs': HOLDER,
  });
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  proxy?.close();
  proxy = undefined;
  await db.drop();
  app.remove();
});

const cli = (args: string[]) => opsctl(['-C', app.root, ...args], { env: cliEnv(db.url), timeoutMs: 60_000 });
const doc = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;
const lockHolderPid = async () =>
  (
    await db.query<{ pid: number }>(
      "select pid from pg_locks where locktype = 'advisory' and granted and classid = $1 and objid = $2",
      KEYS,
    )
  )[0]?.pid;

/** Start the holder process (name: an application_name template with {pid} and {host}); resolves once it holds the lock. */
async function hold(name: string, url = db.url): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(app.root, 'holder.mjs')], {
    env: {
      ...process.env,
      PG_MODULE: import.meta.resolve('pg'),
      HOLD_URL: url,
      HOLD_NAME: name,
      HOLD_KEYS: JSON.stringify(KEYS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((done, fail) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && done());
    child.once('exit', (code) => fail(new Error(`the holder exited ${code}`)));
  });
  return child;
}

/**
 * A TCP proxy to the server that never passes a client's close on: when the client dies, the server keeps its
 * session open, as when a runner's host vanishes (the server learns of it only from TCP keepalives, hours later).
 */
async function halfOpenProxy(): Promise<{ url: string; close(): void }> {
  const target = new URL(db.url);
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    const upstream = netConnect(Number(target.port || 5432), target.hostname);
    sockets.push(client, upstream);
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.pipe(upstream, { end: false });
    upstream.pipe(client);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = new URL(db.url);
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    close() {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('migrate unlock', () => {
  it('no lock: exit 0, "no lock held"', async () => {
    const res = await cli(['migrate', 'unlock', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(doc(res.stdout)).toMatchObject({ command: 'migrate unlock', ok: true, holder: null, released: false });
    expect((await cli(['migrate', 'unlock'])).stderr).toMatch(/No migration lock held on postgres@127\.0\.0\.1:\d+\//);
  });

  it('a live holder (a runner process on this host that still runs): exit 5 naming it; the lock stays', async () => {
    const child = await hold('opsctl migrate (pid {pid} on {host})');
    const pid = await lockHolderPid();
    const res = await cli(['migrate', 'unlock', '--yes', '--json']);
    expect(res.exitCode).toBe(5);
    const d = doc(res.stdout) as { holder: Record<string, unknown>; error: { message: string; hint: string } };
    expect(d.holder).toMatchObject({
      pid,
      applicationName: runnerApplicationName(child.pid, hostname()),
      runner: { pid: child.pid, host: hostname() },
      verdict: 'alive',
      state: 'idle',
    });
    expect(d.error.message).toContain(`held by pid ${pid} (application_name "opsctl migrate (pid ${child.pid} on`);
    expect(d.error.message).toContain(`its runner, opsctl pid ${child.pid} on this host, is still running`);
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(await lockHolderPid()).toBe(pid);
    // on the terminal the holder is described once (the ✖ line), not also on a line before it
    const human = await cli(['migrate', 'unlock', '--yes']);
    expect(human.exitCode).toBe(5);
    expect(human.stderr.split(`held by pid ${pid} `).length - 1, human.stderr).toBe(1);
    expect(human.stderr).toMatch(/^✖ The migration lock is held by pid/m);
  });

  it("an opsctl migrate running a statement: exit 5 (active); a session that is not opsctl's: exit 5", async () => {
    const runner = spawn(process.execPath, [BIN, '-C', app.root, 'migrate'], {
      env: { ...process.env, ...cliEnv(db.url) },
      stdio: 'ignore',
    });
    children.push(runner);
    await waitFor('the slow migration to run', async () => {
      const rows = await db.query(
        "select 1 from pg_stat_activity where state = 'active' and query like '%pg_sleep(30)%' and pid <> pg_backend_pid()",
      );
      return rows.length > 0 && (await lockHolderPid()) !== undefined;
    });
    const active = await cli(['migrate', 'unlock', '--yes', '--json']);
    expect(active.exitCode).toBe(5);
    const activePid = (doc(active.stdout) as { holder: { pid: number } }).holder.pid;
    expect(doc(active.stdout)).toMatchObject({
      holder: { verdict: 'active', runner: { pid: runner.pid } },
      error: { hint: expect.stringContaining(`select pg_cancel_backend(${activePid});`) },
    });
    runner.kill('SIGKILL');
    await waitFor('the killed runner to let go', async () => (await lockHolderPid()) === undefined);

    await hold('nightly-maintenance');
    const pid = await lockHolderPid();
    const foreign = await cli(['migrate', 'unlock', '--yes', '--json']);
    expect(foreign.exitCode).toBe(5);
    expect(doc(foreign.stdout)).toMatchObject({
      holder: { verdict: 'foreign', applicationName: 'nightly-maintenance', runner: null },
      error: { hint: expect.stringContaining(`pg_terminate_backend(${pid})`) },
    });
    expect(await lockHolderPid()).toBe(pid);
  });

  it('a dead holder (its runner killed with SIGKILL, its session left open): refused without --yes, n keeps it, --yes releases it', async () => {
    proxy = await halfOpenProxy();
    const child = await hold('opsctl migrate (pid {pid} on {host})', proxy.url);
    const session = await lockHolderPid();
    child.kill('SIGKILL');
    await new Promise((done) => child.once('exit', done));
    // the runner is gone, and its session still holds the lock
    await new Promise((r) => setTimeout(r, 300));
    expect(await lockHolderPid()).toBe(session);

    const unconfirmed = await cli(['migrate', 'unlock', '--json']);
    expect(unconfirmed.exitCode).toBe(2);
    expect(await lockHolderPid()).toBe(session);

    if (hasScript) {
      const pty = startPty(app.root, ['migrate', 'unlock'], { DATABASE_URL: db.url, OPSCTL_ENV: undefined });
      try {
        await pty.waitFor(
          new RegExp(
            `End session pid ${session} \\(its runner, opsctl pid ${child.pid} on this host, is no longer running\\) to release the migration lock on postgres@127\\.0\\.0\\.1:\\d+/\\S+\\? \\(y/N\\)`,
          ),
        );
        pty.type('n\r');
        expect(await pty.exited()).toBe(130);
      } finally {
        pty.kill();
      }
      expect(await lockHolderPid()).toBe(session);
    }

    // `→` is for hints (README "Output"): the holder is a warning line
    const dry = await cli(['migrate', 'unlock', '--yes', '--dry-run']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(new RegExp(`^⚠ The migration lock is held by pid ${session} `, 'm'));
    expect(dry.stderr).not.toContain('→');
    const res = await cli(['migrate', 'unlock', '--yes', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(doc(res.stdout)).toMatchObject({
      ok: true,
      released: true,
      holder: { pid: session, verdict: 'gone', runner: { pid: child.pid, host: hostname() } },
    });
    expect(await lockHolderPid()).toBeUndefined();
    // the next runner goes ahead at once
    app.write('migrations/0002_slow.sql', 'select 1;\n');
    expect((await cli(['migrate', '--lock-timeout', '1000'])).exitCode).toBe(0);
  });

  it('a runner on another host: exit 5 (opsctl cannot look at it) unless --force', async () => {
    await hold('opsctl migrate (pid 4242 on build-host-that-is-gone)');
    const session = await lockHolderPid();
    const refused = await cli(['migrate', 'unlock', '--yes', '--json']);
    expect(refused.exitCode).toBe(5);
    expect(doc(refused.stdout)).toMatchObject({
      holder: { verdict: 'unknown', runner: { pid: 4242, host: 'build-host-that-is-gone' } },
      error: { hint: expect.stringContaining('--force') },
    });
    expect(await lockHolderPid()).toBe(session);
    const forced = await cli(['migrate', 'unlock', '--force', '--yes', '--json']);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(doc(forced.stdout)).toMatchObject({ released: true });
    expect(await lockHolderPid()).toBeUndefined();
  });
});
