import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { addSecret } from '../output/redact.js';

const DEFAULT_REGISTRY = 'https://registry.npmjs.org/';

/** The part of the user's npm configuration that `outdated` needs, read the way npm reads it. */
export interface NpmConfig {
  registry: string;
  /** `@scope:registry` entries. */
  scopes: Record<string, string>;
  /** Every key/value from env and the npmrc files (env > project > user > global), `${VAR}` expanded. */
  values: Record<string, string>;
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
    if (v !== undefined && /^npm_config_/i.test(k)) envValues[k.slice(11).toLowerCase().replace(/_/g, '-')] = v;
  }
  const userFile = envValues.userconfig ?? join(homedir(), '.npmrc');
  const globalFile =
    envValues.globalconfig ?? join(envValues.prefix ?? dirname(dirname(process.execPath)), 'etc', 'npmrc');
  const layers = [globalFile, userFile, join(projectDir, '.npmrc')].map((f) => parseNpmrc(readText(f), env));
  const values: Record<string, string> = Object.assign({}, ...layers, envValues);

  const scopes: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) {
    const m = /^(@[^:]+):registry$/.exec(k);
    if (m?.[1]) scopes[m[1]] = withSlash(v);
    if (/(_authToken|_auth|_password)$/.test(k)) addSecret(v);
  }
  const unsupported = UNSUPPORTED.filter((k) => values[k] && values[k] !== 'null' && values[k] !== 'false');
  for (const k of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy']) if (env[k]) unsupported.push(k);
  return { registry: withSlash(values.registry || DEFAULT_REGISTRY), scopes, values, unsupported };
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
    const token = config.values[`${nerf}:_authToken`];
    if (token) return `Bearer ${token}`;
    const auth = config.values[`${nerf}:_auth`];
    if (auth) return `Basic ${auth}`;
    const user = config.values[`${nerf}:username`];
    const pass = config.values[`${nerf}:_password`];
    if (user && pass) return `Basic ${Buffer.from(`${user}:${Buffer.from(pass, 'base64')}`).toString('base64')}`;
    parts.splice(parts.length - 2, 1);
  }
  return undefined;
}

/** Parse npmrc text: `key = value` lines, `;`/`#` comments, quoted values, `${VAR}` from the environment. */
export function parseNpmrc(text: string, env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith(';') || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = expand(line.slice(0, eq).trim(), env);
    let value = line.slice(eq + 1).trim();
    if (/^(["']).*\1$/.test(value)) value = value.slice(1, -1);
    out[key.replace(/\[\]$/, '')] = expand(value, env);
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
