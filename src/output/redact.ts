// Hand-written: redaction must know opsctl's own secrets (.env, URLs, npm tokens), which no library tracks for it.
import { isUrlLike, maskUrl, maskUrlsInText, readUrlSecrets } from './url-secrets.js';

/**
 * Secret redaction (README, "Output"). Every string that leaves opsctl (stdout, stderr, JSON, log files it writes,
 * child-process output it relays) passes through `redact`. Secrets are learned from URLs with passwords, env vars
 * with secret-looking names, and secret-looking values from `.env` files; each is masked as a whole token.
 */
// `_PWD` (DB_PWD) but not the shell's PWD and OLDPWD, which hold the current folder
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL|_PWD$/i;
const MIN_SECRET_LENGTH = 4; // shorter values would redact ordinary words and digits
// a value under a plain name (LOG_LEVEL, PORT) counts only when it looks generated: this long, letters and digits
const MIN_UNNAMED_LENGTH = 8;
export const MASK = '****';

const secrets = new Set<string>();
const listeners: Array<(secret: string) => void> = [];
let pattern: RegExp | undefined;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** Remember a value that must never be printed. */
export function addSecret(value: string | undefined | null): void {
  if (!value || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  for (const form of new Set([value, safeDecode(value), encodeURIComponent(value)])) secrets.add(form);
  pattern = undefined;
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

/**
 * Learn a `.env` value (README, "Output"): a secret when its name looks secret, or the value looks generated (at
 * least 8 characters, letters and digits, not a host name, path or version). Masking every value would garble
 * opsctl's own output: `DB_USER=postgres` masked the id of doctor's `postgres` check.
 */
export function addEnvValue(name: string, value: string): void {
  addUrlPassword(value);
  if (isSecretName(name) || looksGenerated(value)) addSecret(value);
}

/**
 * `API_TOKEN=… node server.js` in an npm script: each inline value is learned as a `.env` value is, for npm echoes
 * the script it runs (`> API_TOKEN=… node server.js`) and opsctl relays that line (README, "Output").
 */
export function addScriptSecrets(scripts: Record<string, string>): void {
  for (const script of Object.values(scripts)) {
    for (const [, name, value] of script.matchAll(/(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S+)/g)) {
      addEnvValue(name!, value!.replace(/^(["'])(.*)\1$/, '$2'));
    }
  }
}

function looksGenerated(value: string): boolean {
  if (value.length < MIN_UNNAMED_LENGTH || /\s/.test(value) || isUrlLike(value)) return false;
  if (!/[a-z]/i.test(value) || !/\d/.test(value)) return false;
  const hostOrPath = /^(?:[\w-]+(?:\.[\w-]+)+(?::\d+)?|[./~].*|v?\d[\w.+-]*)$/i;
  return !hostOrPath.test(value);
}

/** Learn the password and the secret query parameters (`?password=`, `&token=`) of a URL. */
export function addUrlPassword(value: string): void {
  for (const secret of readUrlSecrets(value)) addSecret(secret);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Known secrets, longest first (a secret containing another is masked whole), each as a whole token: a secret
 * that starts or ends with a letter or digit is not masked inside a longer word.
 */
function secretsPattern(): RegExp | undefined {
  if (!secrets.size) return undefined;
  pattern ??= new RegExp(
    [...secrets]
      .sort((a, b) => b.length - a.length)
      .map(
        (s) =>
          `${/^\w/.test(s) ? '(?<!\\w)' : ''}${s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}${/\w$/.test(s) ? '(?!\\w)' : ''}`,
      )
      .join('|'),
    'g',
  );
  return pattern;
}

/** Replace every known secret, and the password and secret query values of every URL in the text. */
export function redact(text: string): string {
  const known = secretsPattern();
  return maskUrlsInText(known ? text.replace(known, MASK) : text, MASK);
}

/**
 * Deep-redact a JSON-able value: strings are redacted (a string that is a URL as a whole is parsed as one, so a
 * password with spaces is found too), secret-named keys masked.
 */
export function redactValue<T>(value: T): T {
  if (typeof value === 'string') return redact(isUrlLike(value) ? maskUrl(value, MASK) : value) as T;
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
  pattern = undefined;
}
