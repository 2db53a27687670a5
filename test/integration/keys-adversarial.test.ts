import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleCodec, expectNoKeys, hexKey, keysTestBed } from '../helpers/keys-app.js';

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
});
