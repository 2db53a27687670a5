import { once } from 'node:events';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackChildren } from '../helpers/children.js';
import {
  EXAMPLE_MODULE,
  exampleCodec,
  expectNoKeys,
  hexKey,
  keysTestBed,
  spawnKeys,
  withRole,
} from '../helpers/keys-app.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/keys');
const STOPS_AT = resolve(FIXTURES, 'stops-at.mjs');
const ORDERS = 'select id::text as id, email as v from orders order by id';

/** orders.email under `module`, each row's plaintext `plain(id)` encrypted with the example's format and `key`. */
async function appWith(module: string, key: string, rows: number, plain: (id: number) => string) {
  const a = await bed.app(`encryption:\n  module: ${module}\n  columns: [orders.email]\n`, { ENCRYPTION_KEY: key });
  const { seal } = await exampleCodec(key);
  await a.db.query('create table orders (id int primary key, email text)');
  const ids = Array.from({ length: rows }, (_, i) => i + 1);
  await a.db.query('insert into orders select * from unnest($1::int[], $2::text[])', [
    ids,
    ids.map((id) => seal(plain(id))),
  ]);
  return a;
}

const bed = keysTestBed();
const children = trackChildren();

describe('opsctl keys: what an on-call engineer runs into (real PostgreSQL)', () => {
  it('a rotation left unfinished fails doctor and keys status, even when the sample only meets old-key values', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const a = await bed.app(`encryption:\n  module: ${STOPS_AT}\n  columns: [orders.email]\n`, {
      ENCRYPTION_KEY: oldKey,
    });
    const { seal } = await exampleCodec(oldKey);
    await a.db.query('create table orders (id int primary key, email text)');
    // inserted from the highest id down: a sample (the first rows on disk) meets the ids rotated last
    for (let id = 1_000; id >= 1; id--) {
      await a.db.query('insert into orders values ($1, $2)', [id, seal(id === 300 ? 'stop here' : `user${id}`)]);
    }
    const stopped = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--batch-size', '100'], {
      NEW_KEY: newKey,
    });
    expect(stopped.exitCode, stopped.stderr).toBe(3);
    const [state] = await a.db.query<{ finished_at: Date | null }>('select finished_at from opsctl_key_rotations');
    expect(state!.finished_at).toBeNull();
    const { open } = await exampleCodec(newKey);
    const [first] = await a.db.query<{ email: string }>('select email from orders where id = 1');
    expect(open(first!.email)).toBe('user1'); // the first batches are under the new key: the app cannot read them

    const doctor = await a.run(['doctor', '--only', 'encryption', '--json']);
    expect(doctor.exitCode, doctor.stdout).toBe(1);
    expect(JSON.parse(doctor.stdout).checks[0]).toMatchObject({
      id: 'encryption',
      status: 'fail',
      message: expect.stringMatching(/public\.orders\.email: a keys rotate started .* has not finished/),
      hint: expect.stringMatching(/opsctl keys rotate/),
    });
    const status = await a.run(['keys', 'status']);
    expect(status.exitCode, status.stdout).toBe(1);
    expect(status.stderr).toMatch(/public\.orders\.email: a keys rotate started .* has not finished/);
    expectNoKeys([stopped, doctor, status].map((r) => r.stdout + r.stderr).join('\n'), [oldKey, newKey]);
  });

  it.each([
    ['bytes-plain.mjs', (id: number) => `caf\u00e9 ${id} \u00ff`],
    ['json-plain.mjs', (id: number) => JSON.stringify({ id, tags: ['a', id % 3], nested: { n: id / 2 } })],
  ] as const)(
    'rotates through %s (plaintexts as bytes, as JSON values), verified row by row',
    async (fixture, plain) => {
      const oldKey = hexKey();
      const newKey = hexKey();
      const a = await appWith(resolve(FIXTURES, fixture), oldKey, 700, plain);
      const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--batch-size', '64', '--json'], {
        NEW_KEY: newKey,
      });
      expect(res.exitCode, res.stdout).toBe(0);
      expect(JSON.parse(res.stdout).columns[0]).toMatchObject({ rotated: 700, skipped: 0 });
      const { open } = await exampleCodec(newKey);
      for (const [id, value] of await a.values(ORDERS)) expect(open(value!), `row ${id}`).toBe(plain(+id));
    },
  );

  it('a new module whose values do not fit a varchar(n) column is refused before anything changes (dry run too)', async () => {
    const key = hexKey();
    const a = await appWith(resolve(FIXTURES, 'stops-at.mjs'), key, 300, (id) => `user${id}`);
    await a.db.query('alter table orders alter column email type varchar(80)');
    const before = await a.values(ORDERS);
    for (const extra of [['--dry-run'], []]) {
      const res = await a.run(['keys', 'rotate', '--to-module', resolve(FIXTURES, 'cbc-hmac.mjs'), '--json', ...extra]);
      expect(res.exitCode, res.stdout).toBe(3);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.message).toMatch(
        /^public\.orders\.email holds at most 80 characters \(character varying\(80\)\); the new module's values of it are up to \d+\. Nothing was changed\.$/,
      );
      expect(doc.error.hint).toMatch(/alter table public\.orders alter column email type text/);
      expect(res.stderr).not.toMatch(/Unexpected error|bug in opsctl/);
    }
    expect(await a.values(ORDERS)).toEqual(before);
  });

  it('a database error mid-run (a trigger refusing some rows) is explained, not called a bug; the run resumes', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const a = await appWith(resolve(FIXTURES, 'stops-at.mjs'), oldKey, 1_000, (id) => `user${id}`);
    await a.db.query(`create function orders_guard() returns trigger language plpgsql as $$
      begin if new.id = 700 and current_setting('opsctl_test.open', true) is distinct from 'yes' then
        raise exception 'orders % is frozen', new.id; end if; return new; end $$`);
    await a.db.query(
      'create trigger orders_guard before update on orders for each row execute function orders_guard()',
    );
    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--batch-size', '100', '--json'], {
      NEW_KEY: newKey,
    });
    expect(res.exitCode, res.stdout).toBe(3);
    const doc = JSON.parse(res.stdout);
    expect(doc.error.code).toBe('KEYS_WRITE');
    expect(doc.error.message).toMatch(
      /^public\.orders\.email: writing a batch failed: orders 700 is frozen \(P0001\)\. That batch was not written; the batches before it are under the new key\.$/,
    );
    expect(doc.error.hint).toMatch(/run the same command again: it resumes/);
    expect(res.stderr).not.toMatch(/Unexpected error|bug in opsctl/);
    await a.db.query(`alter database ${new URL(a.db.url).pathname.slice(1)} set opsctl_test.open = 'yes'`);
    const again = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json'], { NEW_KEY: newKey });
    expect(again.exitCode, again.stdout).toBe(0);
    const { open } = await exampleCodec(newKey);
    for (const [id, value] of await a.values(ORDERS)) expect(open(value!), `row ${id}`).toBe(`user${id}`);
  });

  it('rotates a char(n) column (its values come back padded with spaces)', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const a = await appWith(EXAMPLE_MODULE, oldKey, 200, (id) => `user${id}`);
    await a.db.query('alter table orders alter column email type char(120)');
    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json'], { NEW_KEY: newKey });
    expect(res.exitCode, res.stdout).toBe(0);
    expect(JSON.parse(res.stdout).columns[0]).toMatchObject({ rotated: 200, passes: 2 });
    const { open } = await exampleCodec(newKey);
    for (const [id, value] of await a.values(ORDERS)) expect(open(value!.trimEnd()), `row ${id}`).toBe(`user${id}`);
  });

  it('refuses a column listed twice (by two spellings), a view, and a --key-file that is a folder: exit 2', async () => {
    const a = await appWith(EXAMPLE_MODULE, hexKey(), 10, (id) => `user${id}`);
    await a.db.query('create view orders_v as select * from orders');
    const config = (columns: string) =>
      writeFileSync(
        join(a.root, 'opsctl.config.yaml'),
        `encryption:\n  module: ${EXAMPLE_MODULE}\n  columns: [${columns}]\n`,
      );
    const rotate = (...args: string[]) => a.run(['keys', 'rotate', '--json', ...args], { NEW_KEY: hexKey() });
    config('orders.email, public.orders.email');
    for (const res of [
      await rotate('--new-key-env', 'NEW_KEY', '--dry-run'),
      await a.run(['keys', 'status', '--json']),
    ]) {
      expect(res.exitCode, res.stdout).toBe(2);
      expect(JSON.parse(res.stdout).error.message).toBe(
        'encryption.columns names public.orders.email twice (orders.email, public.orders.email).',
      );
    }
    config('orders_v.email');
    const view = await rotate('--new-key-env', 'NEW_KEY', '--dry-run');
    expect(view.exitCode, view.stdout).toBe(2);
    expect(JSON.parse(view.stdout).error.message).toBe(
      'encryption.columns: public.orders_v is a view, not a table: name the table it reads.',
    );
    config('orders.mail');
    const typo = await rotate('--new-key-env', 'NEW_KEY', '--dry-run');
    expect(typo.exitCode, typo.stdout).toBe(2);
    expect(JSON.parse(typo.stdout).error).toMatchObject({
      message: 'encryption.columns: public.orders has no column "mail".',
      hint: 'Its text columns: email (all columns: id, email). Fix encryption.columns.',
    });
    config('orders.email');
    mkdirSync(join(a.root, 'keys dir'));
    const folder = await rotate('--key-file', join(a.root, 'keys dir'));
    expect(folder.exitCode, folder.stdout).toBe(2);
    expect(JSON.parse(folder.stdout).error).toMatchObject({
      code: 'USAGE',
      message: `The key file ${join(a.root, 'keys dir')} cannot be read (EISDIR).`,
    });
  });

  it('--key-file: a key others can read is used with a warning; CRLF and spaces around the key are ignored', async () => {
    const a = await appWith(EXAMPLE_MODULE, hexKey(), 20, (id) => `user${id}`);
    const file = join(a.root, 'new key.txt');
    writeFileSync(file, `  ${hexKey()}\r\n\r\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const open = await a.run(['keys', 'rotate', '--key-file', file, '--dry-run']);
    expect(open.exitCode, open.stderr).toBe(0);
    expect(open.stderr).toContain(`⚠ ${file} can be read by other users (mode 0644): \`chmod 600\` it.`);
    chmodSync(file, 0o600);
    const closed = await a.run(['keys', 'rotate', '--key-file', file, '--dry-run']);
    expect(closed.exitCode, closed.stderr).toBe(0);
    expect(closed.stderr).not.toContain('other users');
  });

  it('SIGINT during the checks before any change: exit 130, nothing written, not even the state table', async () => {
    const a = await appWith(resolve(FIXTURES, 'slow-first.mjs'), hexKey(), 50, (id) => `user${id}`);
    const before = await a.values(ORDERS);
    const { child, stdout } = spawnKeys(a, ['rotate', '--new-key-env', 'NEW_KEY', '--json'], { NEW_KEY: hexKey() });
    children.push(child);
    // the rotation's session holds the column's lock once the checks run
    await waitFor(
      'the checks before any change',
      async () =>
        (
          await a.db.query(
            "select 1 from pg_locks l join pg_stat_activity s using (pid) where l.locktype = 'advisory' and s.application_name = 'opsctl keys rotate'",
          )
        ).length > 0,
      10_000,
      20,
    );
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(130);
    expect(JSON.parse(stdout()).error.code).toBe('INTERRUPTED');
    expect(await a.db.hasTable('opsctl_key_rotations')).toBe(false);
    expect(await a.values(ORDERS)).toEqual(before);
  });

  it('--to-module naming the configured module by another path, with the same key, changes nothing: exit 2', async () => {
    const a = await appWith(EXAMPLE_MODULE, hexKey(), 20, (id) => `user${id}`);
    const before = await a.values(ORDERS);
    const res = await a.run(['keys', 'rotate', '--to-module', `./${relative(a.root, EXAMPLE_MODULE)}`, '--json']);
    expect(res.exitCode, res.stdout).toBe(2);
    expect(JSON.parse(res.stdout).error.message).toBe(
      'The new key is the current key and the module is the same: nothing would change.',
    );
    expect(await a.values(ORDERS)).toEqual(before);
  });

  it('a trigger that silently drops the update of a row: exit 3 naming the row and the trigger as a cause', async () => {
    const a = await appWith(EXAMPLE_MODULE, hexKey(), 300, (id) => `user${id}`);
    await a.db.query(`create function orders_freeze() returns trigger language plpgsql as $$
      begin if new.id = 123 then return null; end if; return new; end $$`);
    await a.db.query(
      'create trigger orders_freeze before update on orders for each row execute function orders_freeze()',
    );
    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json'], { NEW_KEY: hexKey() });
    expect(res.exitCode, res.stdout).toBe(3);
    const { error } = JSON.parse(res.stdout);
    expect(error.code).toBe('KEYS_NOT_SETTLED');
    expect(error.message).toMatch(/rows not updated in the last pass: 123\)/);
    expect(error.hint).toMatch(/a trigger or rule on the table drops the update/);
  });

  it('refuses a table whose row-level security hides rows from the rotating role (they would stay under the old key)', async () => {
    const a = await appWith(EXAMPLE_MODULE, hexKey(), 100, (id) => `user${id}`);
    await withRole(a, async (role, url) => {
      await a.db.query(`alter table orders owner to ${role}`);
      await a.db.query(`grant create on schema public to ${role}`);
      await a.db.query('alter table orders enable row level security');
      await a.db.query('alter table orders force row level security');
      await a.db.query('create policy firsthalf on orders using (id <= 50)');
      const before = await a.values(ORDERS);
      const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json'], {
        NEW_KEY: hexKey(),
        DATABASE_URL: url,
      });
      expect(res.exitCode, res.stdout).toBe(2);
      expect(JSON.parse(res.stdout).error.message).toBe(
        `public.orders has row-level security that applies to ${role}: rows its policies hide would be left under the old key.`,
      );
      expect(await a.values(ORDERS)).toEqual(before);
    });
  });

  it('a role that cannot create the state table nor update the column is refused before anything changes (dry run too)', async () => {
    const a = await appWith(EXAMPLE_MODULE, hexKey(), 30, (id) => `user${id}`);
    await withRole(a, async (role, url) => {
      await a.db.query('revoke create on schema public from public');
      await a.db.query(`grant select on orders to ${role}`);
      const before = await a.values(ORDERS);
      for (const extra of [['--dry-run'], []]) {
        const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY', '--json', ...extra], {
          NEW_KEY: hexKey(),
          DATABASE_URL: url,
        });
        expect(res.exitCode, res.stdout).toBe(2);
        expect(JSON.parse(res.stdout).error.message).toBe(
          `${role} cannot update public.orders.email, nor create public.opsctl_key_rotations (the rotation's state): nothing was changed.`,
        );
      }
      expect(await a.values(ORDERS)).toEqual(before);
    });
  });

  it('doctor warns when the last rotation went to another key than the app is given, even with no value to sample', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const a = await bed.app(`encryption:\n  module: ${EXAMPLE_MODULE}\n  columns: [orders.email]\n`, {
      ENCRYPTION_KEY: oldKey,
    });
    await a.db.query('create table orders (id int primary key, email text)');
    await a.db.query('insert into orders select i, null from generate_series(1, 50) i');
    const rotated = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY'], { NEW_KEY: newKey });
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    const stale = await a.run(['doctor', '--only', 'encryption', '--json']);
    expect(JSON.parse(stale.stdout).checks[0]).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/public\.orders\.email: rotated 0 d ago to another key than ENCRYPTION_KEY holds/),
    });
    const fresh = await a.run(['doctor', '--only', 'encryption', '--json'], { ENCRYPTION_KEY: newKey });
    expect(JSON.parse(fresh.stdout).checks[0]).toMatchObject({ status: 'pass' });
  });
});
