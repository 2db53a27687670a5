import type { ResolvedConfig } from '../config/types.js';
import { usageError } from '../errors.js';
import type { Check } from './types.js';

/** Every doctor check for this app, in the order they are reported. Check modules load lazily. */
export function doctorChecks(config: ResolvedConfig): Check[] {
  const lazy = (id: string, load: () => Promise<Check>): Check => ({
    id,
    run: async (ctx) => (await load()).run(ctx),
  });
  return [
    lazy('config', async () => (await import('./config-check.js')).configCheck),
    lazy('node-version', async () => (await import('./node-version.js')).nodeVersionCheck),
    lazy('dependencies', async () => (await import('./dependencies.js')).dependenciesCheck),
    lazy('env', async () => (await import('./env.js')).envCheck),
    ...config.packages.map((pkg) =>
      lazy(`port:${pkg.name}`, async () => (await import('./processes.js')).ownPortCheck(pkg)),
    ),
    lazy('postgres', async () => (await import('./postgres.js')).postgresCheck),
    lazy('migrations', async () => (await import('./migrations.js')).migrationsCheck),
    lazy('encryption', async () => (await import('./encryption.js')).encryptionCheck),
    lazy('redis', async () => (await import('./redis.js')).redisCheck),
    lazy('logs', async () => (await import('./logs.js')).logsCheck),
    lazy('inspector', async () => (await import('./inspector.js')).inspectorCheck),
    lazy('processes', async () => (await import('./processes.js')).processesCheck),
  ];
}

/**
 * Apply `--only` / `--skip`. An id matches exactly, or by its prefix before ":" (`port` selects every `port:<pkg>`).
 * Unknown ids are a usage error, so a typo in CI does not silently check nothing.
 */
export function selectChecks(checks: Check[], only: string[] | undefined, skip: string[] | undefined): Check[] {
  const known = checks.map((c) => c.id);
  const matches = (id: string, wanted: string) => id === wanted || id.split(':')[0] === wanted;
  for (const wanted of [...(only ?? []), ...(skip ?? [])]) {
    if (!known.some((id) => matches(id, wanted))) {
      throw usageError(`Unknown check "${wanted}".`, `Known checks: ${known.join(', ')}.`);
    }
  }
  return checks.filter(
    (c) => (!only?.length || only.some((w) => matches(c.id, w))) && !skip?.some((w) => matches(c.id, w)),
  );
}
