// Hand-written reader on npm's own ini parser: @npmcli/config needs npm's whole definitions table (start-up time).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseIni } from 'ini';
import { addSecret, addUrlPassword } from '../output/redact.js';

const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** One npm setting: a list for `key[] = value` lines (`ca[]`, `omit[]`), else the value as written. */
export type NpmValue = string | string[];

/** The part of the user's npm configuration that `outdated` needs, read the way npm reads it. */
export interface NpmConfig {
  registry: string;
  /** `@scope:registry` entries. */
  scopes: Record<string, string>;
  /** Every key/value from env and the npmrc files (env > project > user > global), `${VAR}` expanded. */
  values: Record<string, NpmValue>;
  /** Settings opsctl's registry client does not honour (proxies, release-age limits, offline mode). */
  unsupported: string[];
}

const UNSUPPORTED = ['proxy', 'https-proxy', 'before', 'min-release-age', 'offline'];

/**
 * Read npm's configuration for a project folder without spawning npm: `npm_config_*` environment variables, then
 * `<project>/.npmrc`, the user npmrc (`npm_config_userconfig`, ~/.npmrc) and the global npmrc. Auth values are
 * registered as secrets so they can never be printed.
 */
export function readNpmConfig(projectDir: string, env: Record<string, string | undefined> = process.env): NpmConfig {
  const envValues: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v && /^npm_config_/i.test(k)) envValues[configKeyOf(k.slice('npm_config_'.length))] = v;
  }
  const userFile = envValues.userconfig ?? join(homedir(), '.npmrc');
  const globalFile =
    envValues.globalconfig ?? join(envValues.prefix ?? dirname(dirname(process.execPath)), 'etc', 'npmrc');
  const layers = [globalFile, userFile, join(projectDir, '.npmrc')].map((f) => parseNpmrc(readText(f), env));
  const values: Record<string, NpmValue> = Object.assign({}, ...layers, envValues);

  const scopes: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const m = /^(@[^:]+):registry$/.exec(k);
    if (m?.[1]) scopes[m[1]] = withSlash(lastOf(v));
    if (/(_authToken|_auth|_password)$/.test(k)) for (const secret of [v].flat()) addSecret(secret);
    for (const value of [v].flat()) addUrlPassword(value); // `registry=https://user:pass@host/`
    if (k.endsWith('_password')) addBasicCredential(values, k.slice(0, -'_password'.length), lastOf(v));
    if (k.endsWith('_auth')) addSecret(decodeBase64(lastOf(v)).split(':').slice(1).join(':')); // user:password
  }
  const unsupported = UNSUPPORTED.filter((k) => {
    const v = npmSetting(values, k);
    return v && v !== 'null' && v !== 'false';
  });
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) if (env[k]) unsupported.push(k);
  return { registry: withSlash(npmSetting(values, 'registry') || DEFAULT_REGISTRY), scopes, values, unsupported };
}

/**
 * `username` + `_password` (npm writes the password base64): npm sends `Basic base64(username:password)`, which a
 * registry can quote back in an error; the password and that credential are secrets too.
 */
function addBasicCredential(values: Record<string, NpmValue>, prefix: string, encoded: string): void {
  const password = decodeBase64(encoded);
  addSecret(password);
  const username = npmSetting(values, `${prefix}username`);
  if (username) addSecret(Buffer.from(`${username}:${password}`).toString('base64'));
}

function decodeBase64(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

/**
 * The config key of an `npm_config_<name>` variable, as npm maps it: lower case, `_` becomes `-` except a leading
 * one (`npm_config__auth` is `_auth`); nerf-darted keys (`//host/:_authToken`) stay as written.
 */
function configKeyOf(name: string): string {
  if (name.startsWith('//')) return name;
  return (name.slice(0, 1) + name.slice(1).replace(/_/g, '-')).toLowerCase();
}

/** A single-valued setting; for a list, its last value (what a later `key=value` line would leave). */
export function npmSetting(values: Record<string, NpmValue>, key: string): string | undefined {
  const v = values[key];
  return v === undefined ? undefined : lastOf(v);
}

function lastOf(value: NpmValue): string {
  return Array.isArray(value) ? (value.at(-1) ?? '') : value;
}

/** The registry a package name is fetched from (scoped registries honoured). */
export function registryFor(config: NpmConfig, name: string): string {
  const scope = name.startsWith('@') ? name.split('/')[0] : undefined;
  return (scope && config.scopes[scope]) || config.registry;
}

/** The Authorization header npm would send to `registryUrl`: the longest matching `//host/path/:` key wins. */
export function authHeader(config: NpmConfig, registryUrl: string): string | undefined {
  const url = new URL(registryUrl);
  const parts = `//${url.host}${url.pathname}`.replace(/\/?$/, '/').split('/');
  while (parts.length > 3) {
    const nerf = parts.join('/');
    const token = npmSetting(config.values, `${nerf}:_authToken`);
    if (token) return `Bearer ${token}`;
    const auth = npmSetting(config.values, `${nerf}:_auth`);
    if (auth) return `Basic ${auth}`;
    const user = npmSetting(config.values, `${nerf}:username`);
    const pass = npmSetting(config.values, `${nerf}:_password`);
    if (user && pass) return `Basic ${Buffer.from(`${user}:${Buffer.from(pass, 'base64')}`).toString('base64')}`;
    parts.splice(parts.length - 2, 1);
  }
  return undefined;
}

/**
 * Parse npmrc text with npm's own `ini` parser (quotes, comments, `key[]` lists), then expand `${VAR}` in keys
 * and values as npm does. `[section]` tables are ignored, as npm ignores them.
 */
export function parseNpmrc(text: string, env: Record<string, string | undefined>): Record<string, NpmValue> {
  const out: Record<string, NpmValue> = {};
  for (const [key, value] of Object.entries(parseIni(text))) {
    if (Array.isArray(value)) out[expand(key, env)] = value.map((v) => expand(String(v), env));
    else if (value === null || typeof value !== 'object') out[expand(key, env)] = expand(String(value), env);
  }
  return out;
}

function expand(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/(\\*)\$\{([^}?]+)(\?)?\}/g, (whole, slashes: string, name: string, optional?: string) => {
    if (slashes.length % 2) return whole.slice(1);
    const v = env[name];
    return slashes + (v ?? (optional ? '' : whole.slice(slashes.length)));
  });
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
