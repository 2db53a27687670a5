import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { cliEnv, makeApp, useAppDatabase } from './migrate-setup.js';
import { makeToolApp, type ToolApp } from './tools-setup.js';

/**
 * Ctrl-C / SIGTERM in the middle of `migrate redo` and `db seed`, against a real PostgreSQL: what is already
 * committed stays, and the message (and the one JSON document) must say what, since "run the command again" would
 * redo another migration (the reverted one is no longer the last applied) or run committed seeds twice.
 */

const { t, doc } = useAppDatabase<ReturnType<typeof makeApp> | ToolApp>();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

// a step that is still running when the signal comes: it waits on the database (pg_sleep)
const SLOW_SQL = 'select pg_sleep(30);';

function start(args: string[]): { child: ChildProcess; stdout: () => string; stderr: () => string } {
  const child = spawn(process.execPath, [BIN, '-C', t.app!.root, ...args], {
    env: { ...process.env, ...cliEnv(t.db.url), NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c));
  child.stderr!.on('data', (c: Buffer) => (stderr += c));
  return { child, stdout: () => stdout, stderr: () => stderr };
}

const sleeping = async () =>
  (
    await t.db.query(
      "select 1 from pg_stat_activity where state = 'active' and query like '%pg_sleep(30)%' and pid <> pg_backend_pid()",
    )
  ).length > 0;

/** Run opsctl until one of its statements sleeps on the server, then send `signal`; its exit code and document. */
async function interruptWhileSleeping(
  args: string[],
  signal: NodeJS.Signals,
): Promise<{ exitCode: number; doc: Record<string, unknown> & { error: { code: string; hint: string } } }> {
  const run = start(args);
  await waitFor(`${args.join(' ')} to reach its slow statement`, sleeping, 60_000);
  run.child.kill(signal);
  const [exitCode] = await once(run.child, 'exit');
  return { exitCode, doc: doc(run.stdout()) as never };
}

describe('interrupted migration verbs', () => {
  it('migrate redo interrupted after its down step: says the migration is now pending, JSON has what was reverted', async () => {
    t.app = makeApp({
      'migrations/0001_a.sql': '-- up\ncreate table a (id int);\n-- down\ndrop table a;\n',
      'migrations/0002_b.sql': `-- up\ncreate table b (id int);\n${SLOW_SQL}\n-- down\ndrop table b;\n`,
    });
    const run = async (args: string[]) => {
      const { child } = start(args);
      const [code] = await once(child, 'exit');
      expect(code, args.join(' ')).toBe(0);
    };
    await run(['migrate', '--step', '1']);
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      // 0002_b applied by hand (its up would sleep), as `migrate mark` is for; the redo's up step then sleeps
      await t.db.query('create table b (id int)');
      await run(['migrate', 'mark', '0002_b', '--applied', '--yes']);
      expect(await t.db.applied()).toEqual(['0001_a', '0002_b']);
      const { exitCode, doc: d } = await interruptWhileSleeping(['migrate', 'redo', '--yes', '--json'], signal);
      expect(exitCode).toBe(code);
      expect(d).toMatchObject({ reverted: ['0002_b'], applied: [] });
      expect(d.error.hint).toContain('0002_b was reverted and not applied again: it is now pending');
      expect(d.error.hint).not.toContain('Run the command again');
      expect(await t.db.applied()).toEqual(['0001_a']);
      await waitFor('the interrupted up step to be rolled back', async () => !(await sleeping()));
      expect(await t.db.hasTable('b')).toBe(false);
    }
  }, 90_000);

  it('db seed interrupted: names the seeds that stay committed and the one rolled back, JSON has them', async () => {
    t.app = makeApp({
      'migrations/0001_seeded.sql': 'create table seeded (name text);\n',
      'seeds/001_users.sql': "insert into seeded values ('001_users');\n",
      'seeds/002_orders.sql': `insert into seeded values ('002_orders');\n${SLOW_SQL}\n`,
      'seeds/003_totals.sql': "insert into seeded values ('003_totals');\n",
    });
    const { child: up } = start(['migrate']);
    await once(up, 'exit');
    const { exitCode, doc: d } = await interruptWhileSleeping(['db', 'seed', '--json'], 'SIGINT');
    expect(exitCode).toBe(130);
    expect(d).toMatchObject({ seeds: ['001_users'], error: { code: 'INTERRUPTED' } });
    expect(d.error.hint).toContain('002_orders was interrupted and rolled back');
    expect(d.error.hint).toContain('stay committed: 001_users');
    expect(d.error.hint).not.toContain('Run the command again');
    await waitFor('the interrupted seed to be rolled back', async () => !(await sleeping()));
    expect((await t.db.query<{ name: string }>('select name from seeded')).map((r) => r.name)).toEqual(['001_users']);
  }, 60_000);

  it("migrate redo with knex interrupted in its up step: the same (not 'run the command again')", async () => {
    const name = '20250820090000_add_posts.js';
    const knexMigration = (up: string) =>
      `exports.up = (knex) => knex.raw(${JSON.stringify(up)});\nexports.down = (knex) => knex.raw('drop table posts');\n`;
    t.app = makeToolApp(
      { name: 'backend', private: true, scripts: { start: 'node index.js' }, dependencies: { knex: '^3', pg: '^8' } },
      {
        'knexfile.js': "module.exports = { client: 'pg', connection: process.env.DATABASE_URL };\n",
        [`migrations/${name}`]: knexMigration('create table posts (id int)'),
      },
    );
    const { child: up } = start(['migrate']);
    expect((await once(up, 'exit'))[0]).toBe(0);
    t.app.write(`migrations/${name}`, knexMigration(`create table posts (id int); ${SLOW_SQL}`));
    const { exitCode, doc: d } = await interruptWhileSleeping(['migrate', 'redo', '--yes', '--json'], 'SIGINT');
    expect(exitCode).toBe(130);
    expect(d).toMatchObject({ reverted: [name], applied: [] });
    expect(d.error.hint).toContain(`${name} was reverted and is now pending`);
    expect(d.error.hint).toContain('`opsctl migrate` applies it');
    expect(d.error.hint).not.toContain('Run the command again');
    expect(await t.db.applied('knex_migrations')).toEqual([]);
  }, 90_000);

  it('rollback --step 3 interrupted part-way: says what was reverted and how to finish (not --step 3 again)', async () => {
    t.app = makeApp({
      'migrations/0001_a.sql': '-- up\ncreate table a (id int);\n-- down\ndrop table a;\n',
      'migrations/0002_b.sql': `-- up\ncreate table b (id int);\n-- down\ndrop table b;\n${SLOW_SQL}\n`,
      'migrations/0003_c.sql': '-- up\ncreate table c (id int);\n-- down\ndrop table c;\n',
    });
    const { child: up } = start(['migrate']);
    expect((await once(up, 'exit'))[0]).toBe(0);
    const { exitCode, doc: d } = await interruptWhileSleeping(['rollback', '--step', '3', '--yes', '--json'], 'SIGINT');
    expect(exitCode).toBe(130);
    expect(d.reverted).toEqual(['0003_c']);
    expect(d.error.hint).toContain('Reverted before it stopped: 0003_c');
    expect(d.error.hint).toContain('opsctl rollback --to 0001_a');
    expect(d.error.hint).not.toContain('Run the command again');
    await waitFor('the interrupted down step to be rolled back', async () => !(await sleeping()));
    expect(await t.db.applied()).toEqual(['0001_a', '0002_b']);
  }, 60_000);

  it('migrate --step 3 interrupted part-way: the applied ones in JSON, and --to to finish', async () => {
    t.app = makeApp({
      'migrations/0001_a.sql': 'create table a (id int);\n',
      'migrations/0002_b.sql': `create table b (id int);\n${SLOW_SQL}\n`,
      'migrations/0003_c.sql': 'create table c (id int);\n',
      'migrations/0004_d.sql': 'create table d (id int);\n',
    });
    const { exitCode, doc: d } = await interruptWhileSleeping(['migrate', '--step', '3', '--json'], 'SIGTERM');
    expect(exitCode).toBe(143);
    expect(d.applied).toEqual(['0001_a']);
    expect(d.error.hint).toContain('Applied before it stopped: 0001_a');
    expect(d.error.hint).toContain('opsctl migrate --to 0003_c');
    await waitFor('the interrupted migration to be rolled back', async () => !(await sleeping()));
    expect(await t.db.applied()).toEqual(['0001_a']);
  }, 60_000);
});
