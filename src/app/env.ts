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
