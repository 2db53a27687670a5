import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Codec, openCodec } from '../../src/keys/codec.js';
import { keyFingerprint } from '../../src/keys/fingerprint.js';
import { expectNoKeys } from '../helpers/keys-app.js';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/keys');
const spec = (module: string, key: string) => ({
  module,
  root: FIXTURES,
  encrypt: 'encryptData',
  decrypt: 'decryptData',
  keyEnv: 'PROBE_KEY',
  key,
  label: 'current key',
});

const open: Codec[] = [];
afterEach(async () => {
  for (const codec of open.splice(0)) await codec.close();
});

describe('openCodec (the app module in a worker thread)', () => {
  it('gives the module an environment holding only the key variable, and a module cache of its own', async () => {
    const key = randomBytes(32).toString('hex');
    process.env.OPSCTL_SHOULD_NOT_SEE = 'x';
    try {
      const a = await openCodec(spec('env-probe.mjs', key));
      open.push(a);
      const b = await openCodec(spec('env-probe.mjs', key));
      open.push(b);
      const [sealed] = await a.seal(['hello']);
      expect(sealed).toBe('hello|PROBE_KEY|1'); // one variable, and loaded once in this worker
      expect((await b.seal(['x']))[0]).toBe('x|PROBE_KEY|1'); // the other worker loaded its own copy
      expect(await a.decrypt(['hello|y', 'no bar'])).toEqual(['hello', null]);
    } finally {
      delete process.env.OPSCTL_SHOULD_NOT_SEE;
    }
  });

  it('keeps the key out of a load error and says which module failed', async () => {
    const key = randomBytes(32).toString('base64');
    const error = await openCodec(spec('throws-key.cjs', key)).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe(
      'throws-key.cjs could not be loaded with the current key in PROBE_KEY: Error (its message changes with the key, so it is not shown).',
    );
    expectNoKeys(String(error?.message), [key]);
  });

  it('never shows a load error whose text changes with the key (any spelling of it), shows one that does not', async () => {
    const key = randomBytes(32).toString('hex');
    const error = await openCodec(spec('throws-key-forms.cjs', key)).then(
      () => new Error('loaded'),
      (e: Error) => e,
    );
    expect(error).toMatchObject({ exitCode: 3 });
    expect(error.message).toBe(
      'throws-key-forms.cjs could not be loaded with the current key in PROBE_KEY: TypeError (its message changes with the key, so it is not shown).',
    );
    const bytes = Buffer.from(key, 'hex');
    for (const form of [key.toUpperCase(), [...bytes].join(',')]) expect(error.message).not.toContain(form);
    const short = await openCodec(spec('key-length.cjs', randomBytes(20).toString('hex'))).then(
      () => new Error('loaded'),
      (e: Error) => e,
    );
    expect(short.message).toBe(
      'key-length.cjs could not be loaded with the current key in PROBE_KEY: RangeError: PROBE_KEY must hold 32 bytes as hex, got 20.',
    );
  });

  it('refuses a module without the named exports (exit 2) and a missing file (exit 2)', async () => {
    const missing = await openCodec({ ...spec('env-probe.mjs', 'k'.repeat(16)), encrypt: 'seal' }).catch((e) => e);
    expect(missing).toMatchObject({ exitCode: 2, message: 'env-probe.mjs does not export seal.' });
    const gone = await openCodec(spec('nope.js', 'k'.repeat(16))).catch((e) => e);
    expect(gone).toMatchObject({ exitCode: 2 });
  });

  it('fingerprints a key without revealing it: the same key the same, another key another', () => {
    const key = randomBytes(32).toString('hex');
    expect(keyFingerprint(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyFingerprint(`${key}\n`)).toBe(keyFingerprint(key));
    expect(keyFingerprint(randomBytes(32).toString('hex'))).not.toBe(keyFingerprint(key));
    expectNoKeys(keyFingerprint(key), [key]);
  });
});
