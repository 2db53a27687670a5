import type { ResolvedConfig } from '../../src/config/types.js';
import { usageError } from '../../src/errors.js';
import type { Cli } from '../shared/context.js';
import { err } from '../shared/output.js';

/** The embedded database is for local use only (README, "`opsctl db start|stop|status|url`"). */
export function localConfig(cli: Cli): ResolvedConfig {
  const config = cli.config();
  if (config.envName === 'production') {
    throw usageError(
      'opsctl db manages a local development database and is not available under --env production.',
      'Point database.url (environments.production) or DATABASE_URL at your production PostgreSQL instead.',
    );
  }
  return config;
}

/** Progress lines on stderr (none under --json). */
export function progress(cli: Cli): ((message: string) => void) | undefined {
  return cli.json ? undefined : (message) => err(`… ${message}`);
}
