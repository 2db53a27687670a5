import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackChildren } from '../helpers/children.js';
import {
  base64Key,
  exampleCodec,
  expectNoKeys,
  hexKey,
  keysTestBed,
  LOAD_TIME_MODULE,
  loadTimeCodec,
  spawnKeys,
} from '../helpers/keys-app.js';
import { waitFor } from '../helpers/wait.js';

const V2_MODULE = resolve(import.meta.dirname, '../fixtures/keys/cbc-hmac.mjs');

const bed = keysTestBed();
const children = trackChildren();
const ORDERS = 'select id::text as id, email as v from orders order by id';
const exampleApp = (key: string, rows: number) => bed.exampleApp(key, rows, 4);

describe('opsctl keys with other modules, keys status, doctor, SIGINT (real PostgreSQL)', () => {
  it('rotates through a CommonJS module that reads its key at load time (own export names, composite key, schema)', async () => {
    const oldKey = base64Key();
    const newKey = base64Key();
    const a = await bed.app(
      `encryption:\n  module: ${LOAD_TIME_MODULE}\n  encrypt: seal\n  decrypt: open\n  keyEnv: APP_DATA_KEY\n  columns: [billing.cards.token]\n`,
      { APP_DATA_KEY: oldKey },
    );
    const old = loadTimeCodec(oldKey);
    await a.db.query('create schema billing');
    await a.db.query(
      'create table billing.cards (account int, seq int, token varchar(200), primary key (account, seq))',
    );
    const expected = new Map<string, string | null>();
    for (let account = 1; account <= 30; account++) {
      for (let seq = 1; seq <= 40; seq++) {
        const plain = (account + seq) % 9 === 0 ? null : `tok-${account}-${seq}`;
        expected.set(`${account}/${seq}`, plain);
        await a.db.query('insert into billing.cards values ($1, $2, $3)', [account, seq, plain && old.seal(plain)]);
      }
    }
    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEXT', '--batch-size', '97', '--json'], {
      NEXT: newKey,
    });
    expect(res.exitCode, res.stderr).toBe(0);
    const stored = [...expected.values()].filter((v) => v !== null).length;
    expect(JSON.parse(res.stdout).columns[0]).toMatchObject({
      column: 'billing.cards.token',
      rows: 1_200,
      rotated: stored,
    });
    const next = loadTimeCodec(newKey);
    const rows = await a.db.query<{ k: string; v: string | null }>(
      "select account || '/' || seq as k, token as v from billing.cards",
    );
    expect(rows).toHaveLength(expected.size);
    for (const row of rows) {
      const plain = expected.get(row.k);
      if (plain === null) expect(row.v).toBeNull();
      else expect(next.open(row.v!)).toBe(plain);
    }
    const state = await a.db.query('select * from public.opsctl_key_rotations');
    expectNoKeys(`${res.stdout}${res.stderr}${JSON.stringify(state)}`, [oldKey, newKey]);
  });

  it('--to-module moves the data to another algorithm with the same key', async () => {
    const key = hexKey();
    const { a, expected } = await exampleApp(key, 500);
    const res = await a.run(['keys', 'rotate', '--to-module', V2_MODULE, '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.next[0]).toContain(`encryption.module to ${V2_MODULE}`);
    const v2 = await import(V2_MODULE);
    for (const [id, value] of await a.values(ORDERS)) {
      if (expected.get(id) === null) expect(value).toBeNull();
      else expect(v2.decryptData(value, key)).toBe(expected.get(id));
    }
  });

  it('keys status: how many decrypt with the configured key, and the last rotation', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const { a } = await exampleApp(oldKey, 400);
    const before = await a.run(['keys', 'status', '--json']);
    expect(before.exitCode, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout).columns[0]).toMatchObject({
      column: 'public.orders.email',
      rows: 400,
      values: 300,
      checked: 100,
      decrypt: 100,
      lastRotation: null,
    });
    expect((await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY'], { NEW_KEY: newKey })).exitCode).toBe(0);
    // the app still configured with the old key: nothing decrypts
    const stale = await a.run(['keys', 'status', '--all', '--json']);
    expect(stale.exitCode).toBe(1);
    expect(JSON.parse(stale.stdout).columns[0]).toMatchObject({
      checked: 300,
      decrypt: 0,
      lastRotation: { current: false },
    });
    const now = await a.run(['keys', 'status', '--all'], { ENCRYPTION_KEY: newKey });
    expect(now.exitCode, now.stderr).toBe(0);
    expect(now.stdout).toMatch(/public\.orders\.email\s+400\s+300\/300\s+\d{4}-\d\d-\d\d \(0 d\)/);
    const doctor = await a.run(['doctor', '--only', 'encryption', '--json'], { ENCRYPTION_KEY: newKey });
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    expect(JSON.parse(doctor.stdout).checks[0]).toMatchObject({ id: 'encryption', status: 'pass' });
    const wrong = await a.run(['doctor', '--only', 'encryption', '--json']);
    expect(wrong.exitCode).toBe(1);
    expect(JSON.parse(wrong.stdout).checks[0]).toMatchObject({ id: 'encryption', status: 'fail' });
    expectNoKeys([before, stale, now, doctor, wrong].map((r) => r.stdout + r.stderr).join('\n'), [oldKey, newKey]);
  });

  it('doctor ends on time when the module never answers (its worker is stopped with the check)', async () => {
    const { a } = await exampleApp(hexKey(), 50);
    writeFileSync(
      join(a.root, 'opsctl.config.yaml'),
      `encryption:\n  module: ${resolve(import.meta.dirname, '../fixtures/keys/hangs.mjs')}\n  columns: [orders.email]\n`,
    );
    const started = Date.now();
    const res = await a.run(['doctor', '--only', 'encryption', '--timeout', '1500', '--json']);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(res.exitCode).toBe(1);
    expect(JSON.parse(res.stdout).checks[0]).toMatchObject({
      id: 'encryption',
      status: 'fail',
      message: expect.stringMatching(/timed out after 1500 ms/),
    });
  });

  it('stops after the batch under way on SIGINT (exit 130) and the next run finishes', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const { a, expected } = await exampleApp(oldKey, 6_000);
    const { child, stdout } = spawnKeys(a, ['rotate', '--new-key-env', 'NEW_KEY', '--batch-size', '20', '--json'], {
      NEW_KEY: newKey,
    });
    children.push(child);
    const rotated = async () =>
      Number(
        (
          await a.db
            .query<{ n: string }>('select coalesce(max(rotated), 0)::text as n from opsctl_key_rotations')
            .catch(() => [{ n: '0' }])
        )[0]!.n,
      );
    await waitFor('the first batches', async () => (await rotated()) > 0, 30_000, 20);
    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    expect(code).toBe(130);
    const doc = JSON.parse(stdout());
    expect(doc.error.code).toBe('INTERRUPTED');
    const [row] = await a.db.query<{ finished_at: Date | null }>('select finished_at from opsctl_key_rotations');
    expect(row!.finished_at).toBeNull();
    const res = await a.run(['keys', 'rotate', '--new-key-env', 'NEW_KEY'], { NEW_KEY: newKey });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toMatch(/Resumed the interrupted rotation of public\.orders\.email/);
    const { open } = await exampleCodec(newKey);
    for (const [id, value] of await a.values(ORDERS)) {
      if (expected.get(id) === null) expect(value).toBeNull();
      else expect(open(value!)).toBe(expected.get(id));
    }
  });
});
