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
