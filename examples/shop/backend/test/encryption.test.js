import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { decryptData, encryptData, readKey } from '../utils/encryption.js';

const key = randomBytes(32).toString('hex');

test('round-trips text', () => {
  const secret = 'ada@example.com';
  const encrypted = encryptData(secret, key);
  assert.notEqual(encrypted, secret);
  assert.ok(!encrypted.includes('ada'));
  assert.equal(decryptData(encrypted, key), secret);
});

test('uses a fresh IV for every message', () => {
  assert.notEqual(encryptData('same text', key), encryptData('same text', key));
});

test('detects tampering', () => {
  const [version, iv, tag, data] = encryptData('ada@example.com', key).split(':');
  const flipped = Buffer.from(data, 'base64url');
  flipped[0] ^= 1;
  assert.throws(() => decryptData([version, iv, tag, flipped.toString('base64url')].join(':'), key));
});

test('rejects a wrong key', () => {
  const encrypted = encryptData('ada@example.com', key);
  assert.throws(() => decryptData(encrypted, randomBytes(32).toString('hex')));
});

test('takes the key from ENCRYPTION_KEY and accepts base64', (t) => {
  const previous = process.env.ENCRYPTION_KEY;
  t.after(() => {
    if (previous === undefined) delete process.env.ENCRYPTION_KEY;
    else process.env.ENCRYPTION_KEY = previous;
  });
  process.env.ENCRYPTION_KEY = randomBytes(32).toString('base64');
  assert.equal(decryptData(encryptData('x@y.z')), 'x@y.z');
  delete process.env.ENCRYPTION_KEY;
  assert.throws(() => encryptData('x@y.z'), /ENCRYPTION_KEY is not set/);
});

test('rejects keys of the wrong size', () => {
  assert.throws(() => readKey('abc123'), /32 bytes/);
  assert.throws(() => readKey(randomBytes(16).toString('hex')), /32 bytes/);
});
