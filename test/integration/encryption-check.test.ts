import { afterEach, describe, expect, it } from 'vitest';
import { encryptionCheck } from '../../src/checks/encryption.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { connectClient } from '../../src/db/migrate/connect.js';
import { keyFingerprint } from '../../src/keys/fingerprint.js';
import { ensureStateTable } from '../../src/keys/state.js';
import { checkContext } from '../helpers/check-context.js';
import { EXAMPLE_MODULE, exampleCodec, expectNoKeys, hexKey, type KeysApp, keysTestBed } from '../helpers/keys-app.js';

const ROWS = 200;
const bed = keysTestBed();

/** orders.email encrypted with `dataKey` (every 5th NULL; `otherKey` for every 3rd value when given). */
async function seeded(dataKey: string, otherKey?: string) {
  const a = await bed.app('', {});
  const main = await exampleCodec(dataKey);
  const other = otherKey ? await exampleCodec(otherKey) : main;
  await a.db.query('create table orders (id int primary key, email text)');
  for (let i = 1; i <= ROWS; i++) {
    const value = i % 5 === 0 ? null : (i % 3 === 0 ? other : main).seal(`user${i}@example.com`);
    await a.db.query('insert into orders values ($1, $2)', [i, value]);
  }
  return a;
}

function config(a: KeysApp, key: string | undefined, maxAgeDays = 90): ResolvedConfig {
  return {
    root: a.root,
    env: key === undefined ? {} : { ENCRYPTION_KEY: key },
    database: { url: a.db.url, source: 'env', table: 'opsctl_migrations', schema: 'public' },
    encryption: { module: EXAMPLE_MODULE, columns: ['orders.email'], maxAgeDays },
  } as unknown as ResolvedConfig;
}

/** A finished rotation `daysAgo`, to `key` (as `keys rotate` records it: the key's fingerprint). */
async function recordRotation(a: KeysApp, daysAgo: number, key: string) {
  await ensureStateTable(await connected(a), 'public');
  await a.db.query(
    `insert into opsctl_key_rotations (column_name, from_key, to_key, from_module, to_module, started_at, finished_at)
     values ('public.orders.email', 'a', $2, 'm', 'm', now() - make_interval(days => $1), now() - make_interval(days => $1))`,
    [daysAgo, keyFingerprint(key)],
  );
}

/** ensureStateTable wants a pg client of its own. */
async function connected(a: KeysApp) {
  const client = await connectClient(a.db.url);
  clients.push(client);
  return client;
}
const clients: Array<{ end(): Promise<void> }> = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end();
});

describe('doctor encryption check (real PostgreSQL)', () => {
  it('is skipped without an encryption config', async () => {
    const result = await encryptionCheck.run(checkContext({ env: {}, database: { source: 'none' } } as never));
    expect(result.status).toBe('skip');
    expect(result.message).toMatch(/no encryption config/);
  });

  it('passes with the right key and a recent rotation (no false positive)', async () => {
    const key = hexKey();
    const a = await seeded(key);
    await recordRotation(a, 3, key);
    const result = await encryptionCheck.run(checkContext(config(a, key)));
    expect(result).toMatchObject({ status: 'pass' });
    expect(result.message).toMatch(/public\.orders\.email: 20\/20 sampled decrypt, rotated 3 d ago/);
  });

  it('fails when the app is given another key than the data is encrypted with (no false negative)', async () => {
    const a = await seeded(hexKey());
    const given = hexKey();
    await recordRotation(a, 1, given);
    const result = await encryptionCheck.run(checkContext(config(a, given)));
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/public\.orders\.email: 20 of 20 sampled values do not decrypt with ENCRYPTION_KEY/);
    expectNoKeys(JSON.stringify(result), [given]);
  });

  it('fails when only some sampled values decrypt (a half-done rotation)', async () => {
    const key = hexKey();
    const a = await seeded(key, hexKey());
    await recordRotation(a, 1, key);
    const result = await encryptionCheck.run(checkContext(config(a, key)));
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/: [1-9]\d* of 20 sampled values do not decrypt/);
  });

  it('warns when no rotation is recorded, or the last is older than maxAgeDays; fails when the key is unset', async () => {
    const key = hexKey();
    const a = await seeded(key);
    const none = await encryptionCheck.run(checkContext(config(a, key)));
    expect(none).toMatchObject({
      status: 'warn',
      message: 'public.orders.email: no rotation recorded (maxAgeDays 90)',
    });
    await recordRotation(a, 100, key);
    const old = await encryptionCheck.run(checkContext(config(a, key)));
    expect(old).toMatchObject({ status: 'warn', message: 'public.orders.email: rotated 100 d ago (maxAgeDays 90)' });
    const lenient = await encryptionCheck.run(checkContext(config(a, key, 365)));
    expect(lenient.status).toBe('pass');
    const unset = await encryptionCheck.run(checkContext(config(a, undefined)));
    expect(unset).toMatchObject({
      status: 'fail',
      message: 'ENCRYPTION_KEY is not set: the app cannot decrypt orders.email',
    });
  });

  it('is skipped when the database is not reachable', async () => {
    const a = await seeded(hexKey());
    const cfg = config(a, hexKey());
    cfg.database.url = 'postgres://postgres@127.0.0.1:1/nothing';
    const result = await encryptionCheck.run(checkContext(cfg));
    expect(result.status).toBe('skip');
    expect(result.message).toMatch(/database not reachable/);
  });
});
