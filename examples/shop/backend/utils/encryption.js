import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// AES-256-GCM: 32-byte key, 12-byte random IV per message (the size GCM is designed for), 16-byte tag.
const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/**
 * The key as bytes. `ENCRYPTION_KEY` holds 32 random bytes as 64 hex characters or as base64
 * (generate one with `node -e "console.log(require('node:crypto').randomBytes(32).toString('hex'))"`).
 */
export function readKey(key = process.env.ENCRYPTION_KEY) {
  if (!key) throw new Error('ENCRYPTION_KEY is not set: it must hold 32 random bytes as hex or base64.');
  if (Buffer.isBuffer(key)) {
    if (key.length !== KEY_BYTES) throw new Error(`encryption key must be ${KEY_BYTES} bytes, got ${key.length}.`);
    return key;
  }
  const bytes = /^[0-9a-f]{64}$/i.test(key) ? Buffer.from(key, 'hex') : Buffer.from(key, 'base64');
  if (bytes.length !== KEY_BYTES) {
    throw new Error(
      `ENCRYPTION_KEY must decode to ${KEY_BYTES} bytes (64 hex characters or base64), got ${bytes.length}.`,
    );
  }
  return bytes;
}

/** Encrypts `text`; the result is `v1:<iv>:<tag>:<ciphertext>`, each part base64url. */
export function encryptData(text, key) {
  if (typeof text !== 'string') throw new TypeError('encryptData expects a string.');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, readKey(key), iv, { authTagLength: TAG_BYTES });
  const encrypted = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, iv, tag, encrypted]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join(':');
}

/** Decrypts what `encryptData` produced; throws when the data was tampered with or the key is wrong. */
export function decryptData(payload, key) {
  const parts = typeof payload === 'string' ? payload.split(':') : [];
  if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('decryptData: not an encrypted payload.');
  const [, iv, tag, encrypted] = parts.map((part) => Buffer.from(part, 'base64url'));
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('decryptData: malformed payload.');
  const decipher = createDecipheriv(ALGORITHM, readKey(key), iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(encrypted), decipher.final()]).toString('utf8');
}
