import type { ResolvedConfig } from '../config/types.js';
import type { AppPackage } from '../packages/types.js';

/**
 * The environment of a process opsctl starts (README, "Config"): the app's environment (`.env` under the
 * real one), then PORT, DATABASE_URL and REDIS_URL, then the package's own `env`, which wins.
 */
export function packageEnv(config: ResolvedConfig, pkg: AppPackage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(config.env)) if (v !== undefined) env[k] = v;
  if (pkg.port !== undefined) env.PORT = String(pkg.port);
  if (config.database.url) env.DATABASE_URL = config.database.url;
  if (config.redis.url) env.REDIS_URL = config.redis.url;
  return { ...env, ...pkg.env };
}

/** Keys opsctl itself sets from the config (`port`, `database.url`, `redis.url`). */
const CONFIG_KEYS = ['PORT', 'DATABASE_URL', 'REDIS_URL'];

/**
 * The part of packageEnv() that is the release's identity (README, "Deploy"): what the config and `.env` give
 * the process (a shell variable counts where it overrides one of these). Other variables of the caller's shell
 * are passed on but never make a deploy reload.
 */
export function identityEnv(config: ResolvedConfig, pkg: AppPackage): Record<string, string> {
  const env = packageEnv(config, pkg);
  const keys = new Set([...(config.dotenvKeys ?? []), ...CONFIG_KEYS, ...Object.keys(pkg.env)]);
  return Object.fromEntries([...keys].filter((k) => env[k] !== undefined).map((k) => [k, env[k]!]));
}

/**
 * For each key of identityEnv() whose value the config (or opsctl's own default) takes from a variable that is not
 * set in this shell or `.env`: those variables (README, "`opsctl status`, `start|stop|restart`"). `redis.url:
 * ${REDIS_URL}` unset gives `REDIS_URL: ['REDIS_URL']`; with no `redis.url` at all opsctl reads REDIS_URL itself.
 */
export function unsetSources(config: ResolvedConfig, pkg: AppPackage): Record<string, string[]> {
  const refs = config.unsetRefs ?? {};
  const out: Record<string, string[]> = {};
  const own = (key: string) => refs[`packages.${pkg.name}.env.${key}`];
  for (const [key, names] of Object.entries(refs)) {
    const prefix = `packages.${pkg.name}.env.`;
    if (key.startsWith(prefix)) out[key.slice(prefix.length)] = names;
  }
  if (!('REDIS_URL' in pkg.env) && !own('REDIS_URL')) {
    // a config `${VAR}` that is not set falls back to REDIS_URL: then the value is REDIS_URL's, which is set
    const fellBack = Boolean(config.redis.url) && config.redis.url === config.env.REDIS_URL;
    const names = fellBack ? undefined : (refs['redis.url'] ?? (config.redis.url ? undefined : ['REDIS_URL']));
    if (names) out.REDIS_URL = names;
  }
  if (!('DATABASE_URL' in pkg.env) && !own('DATABASE_URL') && config.database.source !== 'env') {
    const names = refs['database.url'] ?? (config.database.source === 'config' ? undefined : ['DATABASE_URL']);
    if (names) out.DATABASE_URL = names;
  }
  return out;
}
