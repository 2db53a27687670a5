import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { lockKeys } from '../../src/db/migrate/lock.js';
import { trackChildren } from '../helpers/children.js';
import { BIN, hasStackTrace } from '../helpers/cli.js';
import {
  base64Key,
  EXAMPLE_MODULE,
  exampleCodec,
  expectNoKeys,
  hexKey,
  type KeysApp,
  keysTestBed,
} from '../helpers/keys-app.js';
import { waitFor } from '../helpers/wait.js';

const ROWS = 3_000;
const NULL_EVERY = 7;
const CONFIG = `encryption:\n  module: ${EXAMPLE_MODULE}\n  columns: [orders.email]\n  maxAgeDays: 30\n`;
const ALL = 'select id::text as id, email as v from orders order by id';

const bed = keysTestBed();
const children = trackChildren();

/** An app whose orders.email holds `rows` values encrypted with `oldKey` (every 7th NULL), and its plaintexts. */
async function seeded(oldKey: string, rows = ROWS) {
  const { a, expected } = await bed.exampleApp(oldKey, rows, NULL_EVERY, CONFIG);
  return { app: a, expected };
}

/** Every row decrypts with `key` to what `expected` holds; NULLs stayed NULL. */
async function expectAllUnder(a: KeysApp, key: string, expected: Map<string, string | null>) {
  const { open } = await exampleCodec(key);
  const values = await a.values(ALL);
  expect(values.size).toBe(expected.size);
  for (const [id, plain] of expected) {
    const value = values.get(id);
    if (plain === null) expect(value, `row ${id}`).toBeNull();
    else expect(open(value!), `row ${id}`).toBe(plain);
  }
}

async function stateRows(a: KeysApp) {
  const [exists] = await a.db.query<{ t: string | null }>("select to_regclass('opsctl_key_rotations')::text as t");
  if (!exists?.t) return undefined;
  return a.db.query<Record<string, unknown>>('select * from opsctl_key_rotations order by id');
}

describe('opsctl keys rotate (example module, real PostgreSQL)', () => {
  it('re-encrypts every value with the new key, verified row by row; NULLs untouched; keys never shown', async () => {
    const oldKey = hexKey();
    const newKey = base64Key();
    const { app: a, expected } = await seeded(oldKey);
    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json'], { NEW_KEY: newKey });
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    const stored = [...expected.values()].filter((v) => v !== null).length;
    expect(doc.columns).toEqual([
      expect.objectContaining({ column: 'public.orders.email', rows: ROWS, rotated: stored, skipped: 0 }),
    ]);
    expect(doc.columns[0].durationMs).toBeGreaterThan(0);
    expect(doc.next.join(' ')).toMatch(/Set ENCRYPTION_KEY to the new key.*opsctl deploy.*Keep the old key/);
    await expectAllUnder(a, newKey, expected);
    // and none decrypts with the old key any more
    const { open: openOld } = await exampleCodec(oldKey);
    const still = [...(await a.values(ALL)).values()].filter((v) => {
      if (v === null) return false;
      try {
        openOld(v);
        return true;
      } catch {
        return false;
      }
    });
    expect(still).toEqual([]);
    const state = await stateRows(a);
    expect(state).toHaveLength(1);
    expect(state![0]).toMatchObject({ column_name: 'public.orders.email', rotated: String(stored) });
    expect(state![0]!.finished_at).toBeInstanceOf(Date);
    expect(state![0]!.from_key).not.toBe(state![0]!.to_key);
    expectNoKeys(`${res.stdout}\n${res.stderr}\n${JSON.stringify(state)}`, [oldKey, newKey]);
  });

  it('--dry-run decrypts and re-encrypts in memory and writes nothing, not even the state table', async () => {
    const oldKey = hexKey();
    const { app: a } = await seeded(oldKey);
    const before = await a.values(ALL);
    const res = await a.run([
      'keys',
      'rotate',
      '--generate',
      '--key-file',
      join(a.root, 'new.key'),
      '--dry-run',
      '--json',
    ]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({
      dryRun: true,
      columns: [{ rotated: before.size - Math.ceil(ROWS / NULL_EVERY) }],
    });
    expect(await a.values(ALL)).toEqual(before);
    expect(await stateRows(a)).toBeUndefined();
    expect(() => statSync(join(a.root, 'new.key'))).toThrow(); // no key file either
  });

  it('a wrong current key changes nothing: exit 3 "Wrong key"', async () => {
    const { app: a } = await seeded(hexKey());
    const wrong = hexKey();
    writeFileSync(join(a.root, '.env'), `ENCRYPTION_KEY=${wrong}\n`);
    const before = await a.values(ALL);
    const newKey = hexKey();
    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY'], { NEW_KEY: newKey });
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toMatch(/Wrong key: \d+ of \d+ sampled values of public\.orders\.email do not decrypt/);
    expect(res.stderr).toMatch(/Nothing was changed/);
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(await a.values(ALL)).toEqual(before);
    expect(await stateRows(a)).toBeUndefined();
    expectNoKeys(res.stdout + res.stderr, [wrong, newKey]);
    // nor is a --generate key file written: the run stopped before it
    const generated = await a.run(['keys', 'rotate', '--generate', '--key-file', join(a.root, 'new.key')]);
    expect(generated.exitCode).toBe(3);
    expect(() => statSync(join(a.root, 'new.key'))).toThrow();
  });

  it('a value neither key decrypts: exit 3 naming its row, left as it was; the others are rotated', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const { app: a, expected } = await seeded(oldKey, 300);
    // stored after the others: not among the sampled values, so the run starts and meets it in its pass
    await a.db.query("insert into orders values (100000, 'v1:not:a:value')");
    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json'], { NEW_KEY: newKey });
    expect(res.exitCode).toBe(3);
    const doc = JSON.parse(res.stdout);
    expect(doc.error.code).toBe('KEYS_UNDECRYPTABLE');
    expect(doc.error.message).toMatch(
      /1 value\(s\) decrypt with neither the current nor the new key \(primary key 100000\)/,
    );
    const values = await a.values(ALL);
    expect(values.get('100000')).toBe('v1:not:a:value');
    values.delete('100000');
    const { open } = await exampleCodec(newKey);
    for (const [id, value] of values) expect(value === null ? null : open(value), `row ${id}`).toBe(expected.get(id));
  });

  it('killed with SIGKILL mid-run, the next run resumes and completes', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const { app: a, expected } = await seeded(oldKey, 6_000);
    const db = new URL(a.db.url);
    const child = spawn(
      process.execPath,
      [BIN, '-C', a.root, 'keys', 'rotate', '--new-key-env', 'NEW_KEY', '--batch-size', '20'],
      {
        env: { ...process.env, DATABASE_URL: db.toString(), NEW_KEY: newKey, NO_COLOR: '1' },
        stdio: 'ignore',
      },
    );
    children.push(child);
    await waitFor(
      'the first batches to be written',
      async () => Number((await stateRows(a))?.[0]?.rotated ?? 0) > 0,
      30_000,
      20,
    );
    child.kill('SIGKILL');
    await once(child, 'exit');
    const { open: openNew } = await exampleCodec(newKey);
    const decryptsNew = (v: string | null) => {
      try {
        return v !== null && openNew(v) !== undefined;
      } catch {
        return false;
      }
    };
    const mid = [...(await a.values(ALL)).values()].filter((v) => v !== null);
    const done = mid.filter(decryptsNew).length;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(mid.length); // it really stopped part-way
    const state = await stateRows(a);
    expect(state![0]!.finished_at).toBeNull();

    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json'], { NEW_KEY: newKey });
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.resumed).toEqual(['public.orders.email']);
    expect(doc.columns[0].skipped).toBe(done);
    expect(doc.columns[0].rotated).toBe(mid.length - done);
    await expectAllUnder(a, newKey, expected);
    const after = await stateRows(a);
    expect(after).toHaveLength(1); // the same row, resumed and finished
    expect(after![0]!.finished_at).toBeInstanceOf(Date);
  });

  it('the app writing with the old key during the rotation loses nothing', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const { app: a, expected } = await seeded(oldKey, 4_000);
    const { seal } = await exampleCodec(oldKey);
    // The app's writes land while the rotation is provably half-way: a row lock on id 2000 holds the batch that
    // reaches it, and the app rewrites rows on both sides of it meanwhile (no race with the rotation's speed).
    const locker = new pg.Client({ connectionString: a.db.url });
    const writer = new pg.Client({ connectionString: a.db.url });
    await locker.connect();
    await writer.connect();
    try {
      await locker.query('begin');
      await locker.query('select 1 from orders where id = 2000 for update');
      const run = a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--batch-size', '25', '--json'], {
        NEW_KEY: newKey,
      });
      await waitFor(
        'the rotation to wait on the locked row',
        async () =>
          (
            await writer.query(
              "select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query ilike '%update%orders%'",
            )
          ).rowCount === 1,
        30_000,
        10,
      );
      // the rows below 2000 are under the new key already, the ones above it not yet
      const { open: openNew } = await exampleCodec(newKey);
      const { open: openOld } = await exampleCodec(oldKey);
      const stored = async (id: number) =>
        (await writer.query<{ v: string }>('select email as v from orders where id = $1', [id])).rows[0]!.v;
      const valued = (id: number) => expected.get(String(id)) !== null;
      const nulls = [...expected].filter(([, v]) => v === null).map(([id]) => Number(id));
      const low = [2, 3, 4, 5, 6].find(valued)!;
      const high = [3_996, 3_997, 3_998, 3_999].find(valued)!;
      expect(openNew(await stored(low))).toBe(expected.get(String(low)));
      expect(openOld(await stored(high))).toBe(expected.get(String(high)));
      // rows already rotated (they need a later pass), rows not reached yet, and NULL rows given a value
      const ids = [
        ...[low, 500, 1_001, 1_500, 1_960],
        ...[2_100, 3_000, high],
        ...[nulls[0]!, nulls[nulls.length - 1]!],
      ];
      for (const [i, id] of ids.entries()) {
        const plain = `rewritten-${i}@example.com`;
        await writer.query('update orders set email = $2 where id = $1', [id, seal(plain)]);
        expected.set(String(id), plain);
      }
      await locker.query('rollback');
      const res = await run;
      expect(res.exitCode, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout).columns[0].passes).toBeGreaterThanOrEqual(2);
      await expectAllUnder(a, newKey, expected);
    } finally {
      await locker.end();
      await writer.end();
    }
  });

  it('a second rotation of the same column is refused with exit 5 naming the holder', async () => {
    const { app: a } = await seeded(hexKey(), 50);
    const holder = new pg.Client({ connectionString: a.db.url, application_name: 'other-rotation' });
    await holder.connect();
    try {
      await holder.query('select pg_advisory_lock($1, $2)', lockKeys('opsctl_key_rotations', 'public.orders.email'));
      const before = await a.values(ALL);
      const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json'], { NEW_KEY: hexKey() });
      expect(res.exitCode).toBe(5);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.code).toBe('KEYS_LOCKED');
      expect(doc.error.message).toMatch(
        /key rotation \(public\.orders\.email\) lock is held by pid \d+ \(application_name "other-rotation"/,
      );
      expect(await a.values(ALL)).toEqual(before);
    } finally {
      await holder.end();
    }
  });

  it('--generate writes a 0600 key file it then rotates to, and never overwrites one', async () => {
    const { app: a, expected } = await seeded(hexKey(), 200);
    const file = join(a.root, 'new.key');
    const res = await a.run(['keys', 'rotate', '--generate', '--key-file', file]);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    await expectAllUnder(a, key, expected);
    expectNoKeys(res.stdout + res.stderr, [key]);
    expect(res.stdout).toMatch(/Set ENCRYPTION_KEY to the new key/);

    const again = await a.run(['keys', 'rotate', '--generate', '--key-file', file]);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/already exists; --generate never overwrites a key file/);
    expect(readFileSync(file, 'utf8').trim()).toBe(key);
  });

  it('refuses a table without primary key (exit 2), and production without --yes when it cannot ask (exit 2)', async () => {
    const { app: a } = await seeded(hexKey(), 20);
    await a.db.query('create table notes (body text)');
    const cfg = (cols: string) => `${CONFIG.replace('[orders.email]', cols)}environments:\n  production: {}\n`;
    writeFileSync(join(a.root, 'opsctl.config.yaml'), cfg('[notes.body]'));
    const noKey = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY'], { NEW_KEY: hexKey() });
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr).toMatch(/public\.notes has no primary key/);
    writeFileSync(join(a.root, 'opsctl.config.yaml'), cfg('[orders.email]'));
    const before = await a.values(ALL);
    const prod = await a.run(['--env', 'production', 'keys', 'rotate', '--new-key-env', 'NEW_KEY'], {
      NEW_KEY: hexKey(),
    });
    expect(prod.exitCode).toBe(2);
    expect(prod.stderr).toMatch(
      /Re-encrypt orders\.email on .*\(production\): this needs confirmation, and this session cannot ask/,
    );
    expect(prod.stderr).toMatch(/Pass --yes --env production to confirm, or --dry-run/);
    expect(await a.values(ALL)).toEqual(before);
    const leftOver = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--yes'], {
      NEW_KEY: hexKey(),
      OPSCTL_ENV: 'production',
    });
    expect(leftOver.exitCode).toBe(2); // production from OPSCTL_ENV alone: --yes does not count
    expect(leftOver.stderr).toMatch(/--yes counts only with --env production on the command line/);
    expect(await a.values(ALL)).toEqual(before);
    const yes = await a.run(['--env', 'production', 'keys', 'rotate', '--new-key-env', 'NEW_KEY', '--yes'], {
      NEW_KEY: hexKey(),
    });
    expect(yes.exitCode, yes.stderr).toBe(0);
    expect(yes.stderr).toMatch(/✔ --yes: Re-encrypt public\.orders\.email on .*\(production\)/);
  });
});
