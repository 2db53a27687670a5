import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import type { ResolvedConfig } from '../config/types.js';
import { configError, usageError } from '../errors.js';
import type { CodecSpec } from './codec.js';
import { keyFingerprint } from './fingerprint.js';

export const DEFAULT_KEY_ENV = 'ENCRYPTION_KEY';
export const DEFAULT_MAX_AGE_DAYS = 90;
const KEY_BYTES = 32;

/** The `encryption` config with its defaults. */
export interface EncryptionSettings {
  module: string;
  encrypt: string;
  decrypt: string;
  keyEnv: string;
  columns: string[];
  maxAgeDays: number;
}

export function readEncryptionSettings(config: ResolvedConfig): EncryptionSettings | undefined {
  const e = config.encryption;
  if (!e) return undefined;
  return {
    module: e.module,
    encrypt: e.encrypt ?? 'encryptData',
    decrypt: e.decrypt ?? 'decryptData',
    keyEnv: e.keyEnv ?? DEFAULT_KEY_ENV,
    columns: e.columns,
    maxAgeDays: e.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS,
  };
}

export function verifyEncryptionSettings(config: ResolvedConfig): EncryptionSettings {
  const settings = readEncryptionSettings(config);
  if (!settings) {
    throw configError(
      'No encryption is configured.',
      'Add `encryption:` (module, keyEnv, columns) to the config (README, "Config").',
    );
  }
  return settings;
}

/** The key the app is given: `keyEnv` in the environment opsctl gives the app (the real one over `.env`). */
export function verifyCurrentKey(config: ResolvedConfig, settings: EncryptionSettings): string {
  const key = config.env[settings.keyEnv];
  if (!key?.trim()) {
    throw configError(
      `${settings.keyEnv} is not set: it holds the current key the data is encrypted with.`,
      `Set ${settings.keyEnv} in the environment or the app's .env (encryption.keyEnv names the variable).`,
    );
  }
  return key;
}

/** The codec spec of one side of a rotation. */
export function codecSpec(
  config: ResolvedConfig,
  settings: EncryptionSettings,
  key: string,
  label: string,
  module = settings.module,
): CodecSpec {
  return {
    root: config.root,
    module,
    encrypt: settings.encrypt,
    decrypt: settings.decrypt,
    keyEnv: settings.keyEnv,
    key,
    label,
  };
}

export interface NewKeySource {
  /** `--new-key-env <VAR>`: the variable holding the new key. */
  newKeyEnv?: string;
  /** `--key-file <f>`: the file holding it (with `--generate`: the file to write it to, see `writeKeyFile`). */
  keyFile?: string;
  generate?: boolean;
}

/**
 * Where the new key comes from: a variable, a file, or (`--generate`) 32 new random bytes as 64 hex characters (what
 * the example's `readKey` and most modules accept), for a file that must not exist yet: the caller writes it with
 * `writeKeyFile` once the checks before any change have passed. Never from the command line. Returns the key, or
 * undefined when none is named (with `--to-module`: the same key, a new module).
 */
export function readNewKey(source: NewKeySource, env: Record<string, string | undefined>): string | undefined {
  if (source.newKeyEnv && (source.keyFile || source.generate)) {
    throw usageError('Give the new key one way: --new-key-env, or --key-file (with --generate to create it).');
  }
  if (source.generate && !source.keyFile) throw usageError('--generate needs --key-file <file> to write the key to.');
  if (source.newKeyEnv) {
    const key = env[source.newKeyEnv];
    if (!key?.trim())
      throw usageError(
        `${source.newKeyEnv} (--new-key-env) is not set or empty.`,
        'Export the new key in that variable first.',
      );
    return key;
  }
  if (!source.keyFile) return undefined;
  if (source.generate) {
    if (existsSync(source.keyFile)) throw keyFileExists(source.keyFile);
    return randomBytes(KEY_BYTES).toString('hex');
  }
  if (!existsSync(source.keyFile))
    throw usageError(`The key file ${source.keyFile} does not exist.`, 'Create it with --generate.');
  let key: string;
  try {
    key = readFileSync(source.keyFile, 'utf8').trim();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw usageError(`The key file ${source.keyFile} cannot be read (${code}).`, 'Name a file holding the new key.');
  }
  if (!key) throw usageError(`The key file ${source.keyFile} is empty.`);
  return key;
}

/** A key file others can read (group or world bits): used, with this warning (secret mounts are often 0644). */
export function readKeyFileWarning(path: string): string | undefined {
  const mode = statSync(path).mode & 0o777;
  if (!(mode & 0o077)) return undefined;
  return `${path} can be read by other users (mode 0${mode.toString(8)}): \`chmod 600\` it.`;
}

const keyFileExists = (path: string) =>
  usageError(
    `${path} already exists; --generate never overwrites a key file.`,
    'Name a new file, or drop --generate to use the key in it.',
  );

/** Write a key to a new file of mode 0600 (as hex and a newline); refuse an existing file (it may hold a key in use). */
export function writeKeyFile(path: string, key: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw keyFileExists(path);
    throw usageError(
      `Cannot create the key file ${path} (${code ?? 'error'}).`,
      'Check the folder exists and is writable.',
    );
  }
  try {
    writeSync(fd, `${key}\n`);
  } finally {
    closeSync(fd);
  }
}

/** Refuse a rotation that would change nothing: the same key and the same module. */
export function verifyChange(fromKey: string, toKey: string, fromModule: string, toModule: string): void {
  if (keyFingerprint(fromKey) === keyFingerprint(toKey) && fromModule === toModule) {
    throw usageError(
      'The new key is the current key and the module is the same: nothing would change.',
      'Name a new key (--new-key-env, --key-file, --generate --key-file) or a new module (--to-module).',
    );
  }
}
