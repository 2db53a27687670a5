import { describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { hasScript } from '../helpers/pty.js';
import { startPty } from '../helpers/pty-session.js';
import { cliEnv, makeApp, useAppDatabase } from './migrate-setup.js';

/** `migrate redo` and `migrate mark` with opsctl's own engine, against a real PostgreSQL. */

// one server for the whole file: the machine's (OPSCTL_TEST_PG_URL) when set, else an embedded one
const { t, cli, doc } = useAppDatabase();

// each step records who ran it: the session's pid and whether that session held the migration lock then
const WHO = `pg_backend_pid(), exists (select 1 from pg_locks where locktype = 'advisory' and granted and pid = pg_backend_pid())`;
const FILES = {
  'migrations/0001_log.sql':
    '-- up\ncreate table redo_log (id serial primary key, step text, pid int, locked boolean);\n-- down\ndrop table redo_log;\n',
  'migrations/0002_items.sql': `-- up\ncreate table items (id int);\ninsert into redo_log (step, pid, locked) select 'up', ${WHO};\n-- down\ndrop table items;\ninsert into redo_log (step, pid, locked) select 'down', ${WHO};\n`,
};
const log = async () =>
  (
    await t.db.query<{ step: string; pid: number; locked: boolean }>(
      'select step, pid, locked from redo_log order by id',
    )
  ).map((r) => r);
const appliedAt = async (name: string) =>
  (await t.db.query<{ at: Date }>('select applied_at as at from opsctl_migrations where name = $1', [name]))[0]?.at;

describe('migrate redo', () => {
  it('reverts the last migration and applies it again, both steps in one session holding the lock', async () => {
    t.app = makeApp(FILES);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const before = await appliedAt('0002_items');
    const res = await cli(['migrate', 'redo', '--yes', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(doc(res.stdout)).toMatchObject({
      command: 'migrate redo',
      ok: true,
      reverted: ['0002_items'],
      applied: ['0002_items'],
    });
    const steps = await log();
    expect(steps.map((s) => s.step)).toEqual(['up', 'down', 'up']);
    // the down and the up ran on one session, which held the migration lock at both: no runner can slip in between
    expect(steps[1]!.pid).toBe(steps[2]!.pid);
    expect(steps.slice(1).every((s) => s.locked)).toBe(true);
    expect(await t.db.applied()).toEqual(['0001_log', '0002_items']);
    expect((await appliedAt('0002_items'))!.getTime()).toBeGreaterThan(before!.getTime());
  });

  it('the --yes line names the migration and the database; an older pending file is not applied with it', async () => {
    t.app = makeApp(FILES);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    t.app!.write('migrations/0000_early.sql', 'create table early (id int);\n');
    const res = await cli(['migrate', 'redo', '--yes']);
    expect(res.exitCode, res.stderr).toBe(0);
    const dbName = new URL(t.db.url).pathname.slice(1);
    expect(res.stderr).toMatch(new RegExp(`Redo 0002_items .* on postgres@127\\.0\\.0\\.1:\\d+/${dbName}`));
    expect(res.stdout.trim()).toBe('0002_items');
    expect(await t.db.applied()).toEqual(['0001_log', '0002_items']);
    expect(await t.db.hasTable('early')).toBe(false);
  });

  it('a migration without a down part: exit 3, nothing changed', async () => {
    t.app = makeApp({ ...FILES, 'migrations/0003_no_down.sql': 'create table no_down (id int);\n' });
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const res = await cli(['migrate', 'redo', '--yes', '--json']);
    expect(res.exitCode).toBe(3);
    expect(doc(res.stdout)).toMatchObject({
      ok: false,
      reverted: [],
      applied: [],
      error: { code: 'MIGRATION_NO_DOWN' },
    });
    expect((doc(res.stdout).error as { message: string }).message).toContain('0003_no_down');
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect((await log()).map((s) => s.step)).toEqual(['up']);
    expect(await t.db.hasTable('no_down')).toBe(true);
    expect(await t.db.applied()).toEqual(['0001_log', '0002_items', '0003_no_down']);
  });

  it('nothing applied: exit 0 saying so; without --yes in CI: exit 2 and nothing changed; --dry-run changes nothing', async () => {
    t.app = makeApp(FILES);
    const none = await cli(['migrate', 'redo', '--yes']);
    expect(none.exitCode).toBe(0);
    expect(none.stderr).toContain('Nothing to redo: no migration is applied.');
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const unconfirmed = await cli(['migrate', 'redo', '--json']);
    expect(unconfirmed.exitCode).toBe(2);
    expect(doc(unconfirmed.stdout)).toMatchObject({ ok: false, error: { hint: expect.stringContaining('--yes') } });
    const dry = await cli(['migrate', 'redo', '--dry-run', '--json']);
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(doc(dry.stdout)).toMatchObject({ dryRun: true, reverted: ['0002_items'], applied: ['0002_items'] });
    expect((await log()).map((s) => s.step)).toEqual(['up']);
  });

  it('the up part failing after the down: exit 3, saying the migration is now pending', async () => {
    t.app = makeApp(FILES);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    // the file changed since (drift): redo applies it as it is now, and this up part fails
    t.app!.write('migrations/0002_items.sql', '-- up\nselect * from no_such_table;\n-- down\ndrop table items;\n');
    const human = await cli(['migrate', 'redo', '--yes']);
    expect(human.stderr).toContain('0002_items changed since it was applied');
    expect((await cli(['migrate'])).exitCode).toBe(3); // pending again, and still failing
    t.app!.write('migrations/0002_items.sql', FILES['migrations/0002_items.sql']);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    t.app!.write('migrations/0002_items.sql', '-- up\nselect * from no_such_table;\n-- down\ndrop table items;\n');
    const res = await cli(['migrate', 'redo', '--yes', '--json']);
    expect(res.exitCode).toBe(3);
    expect(doc(res.stdout)).toMatchObject({ reverted: ['0002_items'], applied: [] });
    expect(res.stderr).toContain('applying it again failed: it is now pending');
    expect(res.stderr).toContain('relation "no_such_table" does not exist');
    expect(await t.db.applied()).toEqual(['0001_log']);
  });
});

describe('migrate mark', () => {
  const MARK = {
    'migrations/0001_orders.sql': '-- up\ncreate table orders (id int);\n-- down\ndrop table orders;\n',
    'migrations/0002_add_order_status.sql':
      '-- up\nalter table orders add column status text;\n-- down\nalter table orders drop column status;\n',
  };

  it('--applied records the row with the file checksum without running it; --pending deletes it; a repeat is a no-op', async () => {
    t.app = makeApp(MARK);
    expect((await cli(['migrate', '--step', '1'])).exitCode).toBe(0);
    // applied by hand
    await t.db.query('alter table orders add column status text');
    const res = await cli(['migrate', 'mark', '0002_add_order_status', '--applied', '--yes', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(doc(res.stdout)).toMatchObject({ name: '0002_add_order_status', as: 'applied', changed: true });
    const status = doc((await cli(['migrate', 'status', '--json'])).stdout);
    // the stored checksum is the file's: not drifted
    expect(status).toMatchObject({ pending: [], drifted: [], missing: [] });
    const [row] = await t.db.query<{ duration_ms: number }>(
      "select duration_ms from opsctl_migrations where name = '0002_add_order_status'",
    );
    expect(row!.duration_ms).toBe(0);
    // the migration did not run: it would have failed on the existing column
    expect((await cli(['migrate'])).stderr).toContain('Nothing to migrate');

    const again = await cli(['migrate', 'mark', '0002_add_order_status', '--applied', '--yes']);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toContain('0002_add_order_status is already applied; nothing changed.');

    const pending = await cli(['migrate', 'mark', '0002_add_order_status', '--pending', '--yes']);
    expect(pending.exitCode, pending.stderr).toBe(0);
    expect(pending.stderr).toMatch(/Mark 0002_add_order_status as pending .* on postgres@127\.0\.0\.1:\d+\//);
    expect(await t.db.applied()).toEqual(['0001_orders']);
    const [col] = await t.db.query(
      "select 1 from information_schema.columns where table_name = 'orders' and column_name = 'status'",
    );
    expect(col).toBeDefined(); // nothing was run: the column stays
  });

  it('an unknown name: exit 2 naming the near ones; neither or both flags: exit 2', async () => {
    t.app = makeApp(MARK);
    const res = await cli(['migrate', 'mark', '0002_add_order_stauts', '--applied', '--yes', '--json']);
    expect(res.exitCode).toBe(2);
    expect(doc(res.stdout)).toMatchObject({
      ok: false,
      error: {
        message: 'No migration 0002_add_order_stauts in migrations/.',
        hint: 'Did you mean 0002_add_order_status?',
      },
    });
    expect(await t.db.applied()).toEqual([]);
    expect((await cli(['migrate', 'mark', '0001_orders', '--yes'])).exitCode).toBe(2);
    const both = await cli(['migrate', 'mark', '0001_orders', '--applied', '--pending', '--yes']);
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain('--applied and --pending cannot be combined.');
  });
});

describe('under production', () => {
  it('--yes counts only with --env production on the command line (not from OPSCTL_ENV)', async () => {
    t.app = makeApp(FILES);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const fromEnv = await opsctl(['-C', t.app!.root, 'migrate', 'mark', '0002_items', '--pending', '--yes', '--json'], {
      env: { ...cliEnv(t.db.url), OPSCTL_ENV: 'production' },
    });
    expect(fromEnv.exitCode).toBe(2);
    expect(doc(fromEnv.stdout)).toMatchObject({ error: { hint: expect.stringContaining('--yes --env production') } });
    expect(await t.db.applied()).toEqual(['0001_log', '0002_items']);
    const typed = await cli(['migrate', 'mark', '0002_items', '--pending', '--yes', '--env', 'production']);
    expect(typed.exitCode, typed.stderr).toBe(0);
    expect(typed.stderr).toMatch(/Mark 0002_items as pending .* on postgres@127\.0\.0\.1:\d+\/\S+ \(production\)/);
    expect(await t.db.applied()).toEqual(['0001_log']);
  });
});

describe.skipIf(!hasScript)('redo and mark on a terminal', () => {
  it('the prompt names the migration and the database; n changes nothing (exit 130)', async () => {
    t.app = makeApp(FILES);
    expect((await cli(['migrate'])).exitCode).toBe(0);
    const env = { DATABASE_URL: t.db.url, OPSCTL_ENV: undefined };
    const dbName = new URL(t.db.url).pathname.slice(1);
    for (const args of [
      ['migrate', 'redo'],
      ['migrate', 'mark', '0002_items', '--pending'],
    ]) {
      const pty = startPty(t.app!.root, args, env);
      try {
        await pty.waitFor(new RegExp(`0002_items .*on postgres@127\\.0\\.0\\.1:\\d+/${dbName}\\? \\(y/N\\)`));
        pty.type('n\r');
        expect(await pty.exited()).toBe(130);
        expect(pty.output()).toContain('nothing was changed');
      } finally {
        pty.kill();
      }
    }
    expect((await log()).map((s) => s.step)).toEqual(['up']);
    expect(await t.db.applied()).toEqual(['0001_log', '0002_items']);
  });
});
