import type { ResolvedConfig } from '../config/types.js';
import { parsePgTarget } from './pg-target.js';

/** The environment whose destructive commands need its name typed, or `--yes` with `--env` given explicitly. */
export const PRODUCTION = 'production';

/**
 * A database URL as people name it in a confirmation: `app@db.internal:5432/shop` (user@host:port/name), read by
 * parsing the URL, so the password is never part of it.
 */
export function describeDatabase(url: string | undefined): string {
  if (!url) return 'no database (none configured)';
  const target = parsePgTarget(url);
  return target ? `${target.user}@${target.label}` : 'the database (its URL cannot be read)';
}

/**
 * Where a command changes things: the database and the environment, `app@db.internal:5432/shop (production)`;
 * the embedded database says so, and no `--env` adds nothing.
 */
export function describeTarget(config: Pick<ResolvedConfig, 'database' | 'envName'>): string {
  const notes = [
    ...(config.database.source === 'embedded' ? ['embedded'] : []),
    ...(config.envName ? [config.envName] : []),
  ];
  return `${describeDatabase(config.database.url)}${notes.length ? ` (${notes.join(', ')})` : ''}`;
}

/** The environment suffix alone, for commands whose target is no database (`stop backend (production)`). */
export function describeEnv(config: Pick<ResolvedConfig, 'envName'>): string {
  return config.envName ? ` (${config.envName})` : '';
}

/** Whether the config was resolved for production (`--env production` or `OPSCTL_ENV=production`). */
export function isProduction(config: Pick<ResolvedConfig, 'envName'>): boolean {
  return config.envName === PRODUCTION;
}
