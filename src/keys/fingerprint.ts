import { createHmac, randomBytes } from 'node:crypto';
import { serialize } from 'node:v8';
import type { Plain } from './codec.js';

/** Namespace of key fingerprints: the same key always gives the same fingerprint, and it names nothing else. */
const KEY_NAMESPACE = 'opsctl key fingerprint v1';
const KEY_FINGERPRINT_CHARS = 16;
const ROW_FINGERPRINT_BYTES = 16;

/**
 * What the state table and the output say of a key: a namespaced HMAC-SHA-256 of the value as the variable holds it,
 * 16 hex characters. Never the key, and not usable to find it (keys are 32 random bytes).
 */
export function keyFingerprint(key: string): string {
  return createHmac('sha256', KEY_NAMESPACE).update(key.trim()).digest('hex').slice(0, KEY_FINGERPRINT_CHARS);
}

/**
 * Fingerprints of plaintexts and ciphertexts for one run: HMAC-SHA-256 under a random key that lives in this process'
 * memory only, so the fingerprints kept for every row say nothing about the data once the run ends.
 */
export function runHasher(): (value: Plain) => string {
  const runKey = randomBytes(32);
  return (value) =>
    createHmac('sha256', runKey)
      .update(plainBytes(value))
      .digest()
      .subarray(0, ROW_FINGERPRINT_BYTES)
      .toString('base64');
}

/**
 * The bytes a plaintext is fingerprinted by: a string's UTF-8 and bytes as they are (the worker holds those for the
 * same plaintext, `samePlain` in codec-worker.mjs), any other value as V8 serialises it, tagged apart.
 */
function plainBytes(value: Plain): string | Uint8Array {
  if (typeof value === 'string' || value instanceof Uint8Array) return value;
  return Buffer.concat([Buffer.from('\0v8\0'), serialize(value)]);
}
