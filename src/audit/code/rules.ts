import type { Severity } from '../types.js';

/** A code-audit rule: its id (what `audit.ignore` names), severity, one-line why and fix hint (README, "`opsctl audit`"). */
export interface CodeRule {
  id: string;
  severity: Severity;
  title: string;
  hint: string;
}

const rule = (id: string, severity: Severity, title: string, hint: string): CodeRule => ({ id, severity, title, hint });

export const RULES = {
  deprecatedCipher: rule(
    'crypto/deprecated-cipher',
    'high',
    'crypto.createCipher/createDecipher derive key and IV from a password with one MD5 pass and reuse the IV',
    'Use crypto.createCipheriv with aes-256-gcm, a 32-byte key and a random 12-byte IV per message.',
  ),
  ecb: rule(
    'crypto/ecb-mode',
    'high',
    'ECB mode encrypts equal blocks to equal ciphertext: patterns in the data show through',
    'Use aes-256-gcm (authenticated) with a random IV per message.',
  ),
  cbcNoAuth: rule(
    'crypto/cbc-without-auth',
    'moderate',
    'CBC without an authentication tag: ciphertext can be altered undetected (padding-oracle attacks)',
    'Use aes-256-gcm and check its auth tag, or add an HMAC over IV and ciphertext (encrypt-then-MAC).',
  ),
  weakHash: rule(
    'crypto/weak-hash-for-secret',
    'high',
    'MD5 or SHA-1 used on a password or key: both are fast and broken for this use',
    'Hash passwords with crypto.scrypt (or argon2/bcrypt); derive keys with scrypt/HKDF using SHA-256 or better.',
  ),
  staticIv: rule(
    'crypto/static-iv',
    'high',
    'The IV is fixed (a literal or a zero buffer): equal plaintexts give equal ciphertexts; with GCM it breaks the key',
    'Generate the IV with crypto.randomBytes for every message and store it beside the ciphertext.',
  ),
  reusedIv: rule(
    'crypto/reused-iv',
    'high',
    'One random IV made once at module load is reused for every message',
    'Call crypto.randomBytes inside the encrypt function, once per message.',
  ),
  shortKey: rule(
    'crypto/short-key',
    'high',
    'The key is shorter than the algorithm needs',
    'Use a key of the full length (32 bytes for AES-256), e.g. crypto.randomBytes(32) kept in a secret store.',
  ),
  hardcodedKey: rule(
    'secrets/hardcoded-key',
    'high',
    'A key or secret is written in the source',
    'Read it from the environment or a secret store, and rotate the one that was committed.',
  ),
  envFallback: rule(
    'secrets/env-fallback',
    'high',
    'A secret-named environment variable falls back to a literal: a missing variable silently uses a known secret',
    'Fail at start-up when the variable is missing instead of falling back to a literal.',
  ),
  committedEnv: rule(
    'secrets/committed-env',
    'high',
    'A .env file shipped with the source holds a secret value',
    'Remove the file from the repository (git rm --cached), rotate the secret, ship a .env.example with placeholders.',
  ),
  privateKey: rule(
    'secrets/private-key',
    'critical',
    'A private key file ships with the source',
    'Remove it from the repository, revoke and replace the key, load keys from a secret store.',
  ),
  inspectorPublic: rule(
    'scripts/inspector-public',
    'high',
    'An npm script binds the Node.js inspector to all interfaces: anyone who reaches the port can run code',
    'Bind the inspector to 127.0.0.1 (--inspect=127.0.0.1:9229) and tunnel to it (ssh -L).',
  ),
  tlsOff: rule(
    'tls/verification-disabled',
    'high',
    'TLS certificate verification is turned off: connections can be intercepted',
    'Keep verification on; give Node the private CA with the ca option or NODE_EXTRA_CA_CERTS.',
  ),
} as const;

/** Names that hold secrets in code: `jwtSecret`, `API_KEY`, `dbPassword` (not `tokenHeader`, `passwordField`). */
export function isSecretIdentifier(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[_\-\s]+/)
    .filter(Boolean);
  const last = words.at(-1) ?? '';
  const prev = words.at(-2) ?? '';
  if (['secret', 'password', 'passwd', 'pwd', 'passphrase', 'token', 'credential', 'credentials'].includes(last)) {
    return true;
  }
  return (
    last === 'key' &&
    [
      'api',
      'private',
      'secret',
      'encryption',
      'signing',
      'access',
      'master',
      'crypto',
      'aes',
      'hmac',
      'jwt',
      'session',
      'cipher',
    ].includes(prev)
  );
}

const SECRET_WORDS = new Set([
  'secret',
  'secrets',
  'password',
  'passwd',
  'pwd',
  'pass',
  'passphrase',
  'token',
  'credential',
  'credentials',
  'key',
  'pw',
  // words written together: APIKEY, PRIVATEKEY, AUTHTOKEN
  'apikey',
  'privatekey',
  'secretkey',
  'accesskey',
  'authtoken',
  'apitoken',
]);
// what a name ending in one of these holds is about a secret, not the secret: TOKEN_TTL, CACHE_KEY_PREFIX, ACCESS_KEY_ID
const ABOUT_A_SECRET = new Set(
  'ttl prefix suffix url uri path file dir name header field length len min max timeout expiry expires expiration id type layout format version mode enabled algorithm algo size count host port user username email region env'.split(
    ' ',
  ),
);

/**
 * Environment variable (and .env key) names that hold secrets, by their words: `ENCRYPTION_KEY`, `DB_PASSWORD`,
 * `SECRET_KEY_BASE`; not `KEYBOARD_LAYOUT` (no secret word), `TOKEN_TTL` or `PASSWORD_RESET_URL` (about a secret).
 */
export function isSecretEnvName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  return words.some((w) => SECRET_WORDS.has(w)) && !ABOUT_A_SECRET.has(words.at(-1) ?? '');
}

/** Values that stand for "fill me in" rather than a secret. */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  return (
    v === '' ||
    /^(x+|\*+|\.+|-+|#+|0+)$/i.test(v) ||
    /^(change[-_ ]?me|replace[-_ ]?me|todo|tbd|none|null|undefined|placeholder|dummy|example|sample|your[-_ ].*|<.*>|\$\{.*\}|\{\{.*\}\}|%.*%)$/i.test(
      v,
    )
  );
}
