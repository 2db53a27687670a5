import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectClient } from '../../src/db/migrate/connect.js';
import { lockKeys } from '../../src/db/migrate/lock.js';
import { BIN, hasStackTrace, opsctl } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import {
  cliEnv,
  createDatabase,
  makeApp,
  manyMigrations,
  type TestDatabase,
  testServers,
  useServer,
} from './migrate-setup.js';

const RUNNERS = 8;
const MIGRATIONS = 60;

describe.each(testServers())('migrate: concurrency, locking, interruption ($label)', (server) => {
  const serverUrl = useServer(server);
  let db: TestDatabase;
  let app: ReturnType<typeof makeApp>;

  beforeEach(async () => {
    db = await createDatabase(serverUrl());
  });
  afterEach(async () => {
    await db.drop();
    app.remove();
  });

  it(`${RUNNERS} runners started at once apply each of ${MIGRATIONS} migrations exactly once, and all exit 0`, async () => {
    app = makeApp(manyMigrations(MIGRATIONS));
    const results = await Promise.all(
      Array.from({ length: RUNNERS }, () =>
        opsctl(['-C', app.root, 'migrate', '--json'], { env: cliEnv(db.url), timeoutMs: 120_000 }),
      ),
    );
    for (const r of results) expect({ exitCode: r.exitCode, stderr: r.stderr }).toEqual({ exitCode: 0, stderr: '' });
    const appliedByRunners = results.flatMap((r) => JSON.parse(r.stdout).applied as string[]);
    const expected = Object.keys(manyMigrations(MIGRATIONS)).map((f) => f.replace(/^migrations\/|\.sql$/g, ''));
    // every migration applied by exactly one runner (the others found nothing pending once they got the lock)
    expect([...appliedByRunners].sort()).toEqual(expected);
    expect(await db.applied()).toEqual(expected);
    const [rows] = await db.query<{ n: string }>(
      `select count(*) as n from (${expected.map((_, i) => `select * from t${i + 1}`).join(' union all ')}) all_rows`,
    );
    expect(Number(rows!.n)).toBe(MIGRATIONS);
  });

  it('a second runner with a short --lock-timeout exits 5 and names the holder', async () => {
    app = makeApp(manyMigrations(2));
    const holder = await connectClient(db.url);
    try {
      await holder.query("set application_name = 'nightly-maintenance'");
      const [{ pid }] = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows as [
        { pid: number },
      ];
      await holder.query('select pg_advisory_lock($1, $2)', lockKeys('public', 'opsctl_migrations'));
      const started = Date.now();
      const res = await opsctl(['-C', app.root, 'migrate', '--lock-timeout', '700'], { env: cliEnv(db.url) });
      expect(Date.now() - started).toBeGreaterThanOrEqual(700);
      expect(res.exitCode).toBe(5);
      expect(res.stderr).toContain(
        `The migration lock is held by pid ${pid} (application_name "nightly-maintenance", since `,
      );
      expect(res.stderr).toContain(`pg_terminate_backend(${pid})`);
      expect(hasStackTrace(res.stderr)).toBe(false);
      expect(await db.applied()).toEqual([]);
    } finally {
      await holder.end();
    }
    // once released, the next runner goes ahead
    expect((await opsctl(['-C', app.root, 'migrate', '--lock-timeout', '0'], { env: cliEnv(db.url) })).exitCode).toBe(
      0,
    );
    expect(await db.applied()).toEqual(['0001_table_1', '0002_table_2']);
  });

  it('a runner killed with SIGKILL mid-migration leaves nothing half-applied, and the next run completes', async () => {
    app = makeApp({
      'migrations/0001_before.sql': 'create table before_kill (id int);\n',
      'migrations/0002_slow.sql':
        'create table half_applied (id int);\nselect pg_sleep(5);\ncreate table slow_done (id int);\n',
      'migrations/0003_after.sql': 'create table after_kill (id int);\n',
    });
    const child = spawn(process.execPath, [BIN, '-C', app.root, 'migrate'], {
      env: { ...process.env, ...cliEnv(db.url) },
      stdio: 'ignore',
    });
    const exited = new Promise((done) => child.once('exit', done));
    await waitFor('the slow migration to be running', async () => {
      const rows = await db.query(
        "select 1 from pg_stat_activity where application_name like 'opsctl migrate (pid %' and query like '%pg_sleep%' and pid <> pg_backend_pid()",
      );
      return rows.length > 0;
    });
    child.kill('SIGKILL');
    await exited;
    // the server notices the dead client once pg_sleep returns; until then its session holds the lock
    await waitFor('the killed session to end', async () => {
      const rows = await db.query("select 1 from pg_stat_activity where application_name like 'opsctl migrate (pid %'");
      return rows.length === 0;
    });
    expect(await db.applied()).toEqual(['0001_before']);
    expect(await db.hasTable('half_applied')).toBe(false);
    expect(await db.hasTable('slow_done')).toBe(false);

    const next = await opsctl(['-C', app.root, 'migrate', '--json'], { env: cliEnv(db.url) });
    expect(next.exitCode).toBe(0);
    expect(JSON.parse(next.stdout).applied).toEqual(['0002_slow', '0003_after']);
    expect(await db.applied()).toEqual(['0001_before', '0002_slow', '0003_after']);
    for (const table of ['half_applied', 'slow_done', 'after_kill']) expect(await db.hasTable(table)).toBe(true);
  });

  it('a runner started while the killed one still holds the lock waits for it and completes', async () => {
    app = makeApp({
      'migrations/0001_slow.sql': 'select pg_sleep(3);\ncreate table slow (id int);\n',
      'migrations/0002_next.sql': 'create table next (id int);\n',
    });
    const child = spawn(process.execPath, [BIN, '-C', app.root, 'migrate'], {
      env: { ...process.env, ...cliEnv(db.url) },
      stdio: 'ignore',
    });
    const exited = new Promise((done) => child.once('exit', done));
    await waitFor('the slow migration to be running', async () => {
      return (
        (
          await db.query(
            "select 1 from pg_stat_activity where application_name like 'opsctl migrate (pid %' and query like '%pg_sleep%' and pid <> pg_backend_pid()",
          )
        ).length > 0
      );
    });
    child.kill('SIGKILL');
    await exited;
    const next = await opsctl(['-C', app.root, 'migrate'], { env: cliEnv(db.url) });
    expect(next.exitCode).toBe(0);
    expect(next.stderr).toMatch(
      /waiting for the migration lock, held by pid \d+ \(application_name "opsctl migrate \(pid \d+ on [^"]+\)"/,
    );
    expect(await db.applied()).toEqual(['0001_slow', '0002_next']);
  });
});
