import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleCodec, expectNoKeys, hexKey, keysTestBed } from '../helpers/keys-app.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/keys');
const STOPS_AT = resolve(FIXTURES, 'stops-at.mjs');

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
});
