// Hand-written: redaction must know opsctl's own secrets (.env, URLs, npm tokens), which no library tracks for it.
/**
 * Secret redaction. Every string that leaves opsctl (stdout, stderr, JSON, log files it writes,
 * child-process output it relays) passes through `redact`. Secrets are learned from URLs with
 * passwords, env vars with secret-looking names, and values from `.env` files.
 */
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL/i;
const MIN_SECRET_LENGTH = 4; // shorter values would redact ordinary words and digits
export const MASK = '****';

const secrets = new Set<string>();
const listeners: Array<(secret: string) => void> = [];

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Remember a value that must never be printed. */
export function addSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  const decoded = safeDecode(value);
  if (decoded !== value) secrets.add(decoded);
  const encoded = encodeURIComponent(value);
  if (encoded !== value) secrets.add(encoded);
  for (const listener of listeners) listener(value);
}

/** Called once per new secret (used for GitHub Actions `::add-mask::`). */
export function onSecret(listener: (secret: string) => void): void {
  listeners.push(listener);
  for (const s of secrets) listener(s);
}

/** Learn the secret-named variables and the passwords inside URL-valued variables of an environment. */
export function addSecretsFromEnv(env: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (isSecretName(name)) addSecret(value);
    addUrlPassword(value);
  }
}

export function addUrlPassword(value: string): void {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(value);
  if (!match?.[1]) return;
  const colon = match[1].indexOf(':');
  if (colon >= 0) addSecret(match[1].slice(colon + 1));
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s/]+)@/gi;

/** Replace every known secret and every password inside a URL. */
export function redact(text: string): string {
  let out = text.replace(URL_PASSWORD, `$1${MASK}@`);
  // longest first, so a secret containing another is masked whole
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/** Deep-redact a JSON-able value: strings are redacted, secret-named keys masked. */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactValue(v)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = typeof v === 'string' && isSecretName(k) && v ? MASK : redactValue(v);
    }
    return out as T;
  }
  return value;
}

/** For tests: forget what was learned. */
export function clearSecrets(): void {
  secrets.clear();
}
