import type { AppPackage } from '../packages/types.js';
import type { Runner } from '../process/runner.js';
import { byRisk } from './bump.js';
import { type NpmConfig, npmSetting, readNpmConfig } from './npm-config.js';
import { npmOutdated } from './npm-outdated.js';
import { findOutdated, type OutdatedReport } from './outdated.js';
import { createPackumentFetcher, type PackumentFetcher } from './registry.js';

/** Per registry request; npm's own fetch-timeout (5 min) is far too long for CI. */
export const REGISTRY_TIMEOUT_MS = 30_000;

export interface CheckOutdatedOptions {
  runner: Runner;
  /** Per registry request (`--timeout`); default: npm's `fetch-timeout` when set, else REGISTRY_TIMEOUT_MS. */
  timeoutMs?: number;
  env?: Record<string, string | undefined>;
  nodeVersion?: string;
}

export interface CheckOutdatedResult extends OutdatedReport {
  /** Packages answered by spawning `npm outdated` and why (npm settings opsctl's client does not support). */
  viaNpm: Array<{ package: string; settings: string[] }>;
}

/**
 * `npm outdated --json` for every package, answered from the registry directly: one fetch per distinct
 * dependency and registry configuration. Packages whose npm config needs a proxy or custom CA go through npm.
 */
export async function checkOutdated(
  packages: AppPackage[],
  options: CheckOutdatedOptions,
): Promise<CheckOutdatedResult> {
  const env = options.env ?? process.env;
  const fetchers = new Map<string, PackumentFetcher>();
  const direct: Array<{ pkg: AppPackage; fetcher: PackumentFetcher; omitDev: boolean }> = [];
  const viaNpm: CheckOutdatedResult['viaNpm'] = [];
  for (const pkg of packages) {
    const config = readNpmConfig(pkg.dir, env);
    if (config.unsupported.length) {
      viaNpm.push({ package: pkg.name, settings: config.unsupported });
      continue;
    }
    const key = configKey(config);
    let fetcher = fetchers.get(key);
    if (!fetcher) {
      const timeoutMs =
        options.timeoutMs ?? (Number(npmSetting(config.values, 'fetch-timeout')) || REGISTRY_TIMEOUT_MS);
      fetcher = createPackumentFetcher(config, { timeoutMs });
      fetchers.set(key, fetcher);
    }
    direct.push({ pkg, fetcher, omitDev: omitsDev(config, env) });
  }
  try {
    return await answer(direct, viaNpm, packages, options.runner, options.nodeVersion);
  } finally {
    for (const fetcher of fetchers.values()) fetcher.close();
  }
}

async function answer(
  direct: Array<{ pkg: AppPackage; fetcher: PackumentFetcher; omitDev: boolean }>,
  viaNpm: CheckOutdatedResult['viaNpm'],
  packages: AppPackage[],
  runner: Runner,
  nodeVersion: string | undefined,
): Promise<CheckOutdatedResult> {
  const [fromRegistry, fromNpm] = await Promise.all([
    Promise.all(direct.map(({ pkg, fetcher, omitDev }) => findOutdated([pkg], { fetcher, omitDev, nodeVersion }))),
    npmOutdated(
      packages.filter((p) => viaNpm.some((v) => v.package === p.name)),
      runner,
    ),
  ]);
  return {
    dependencies: [...fromRegistry.flatMap((r) => r.dependencies), ...fromNpm].sort(byRisk),
    skipped: fromRegistry.flatMap((r) => r.skipped),
    viaNpm,
  };
}

function configKey(config: NpmConfig): string {
  const auth = Object.entries(config.values).filter(([k]) => k.startsWith('//'));
  return JSON.stringify([config.registry, config.scopes, auth]);
}

/** npm's `omit` default: dev when NODE_ENV is production, unless `include=dev`. */
function omitsDev(config: NpmConfig, env: Record<string, string | undefined>): boolean {
  const listed = (key: string) =>
    [config.values[key] ?? []]
      .flat()
      .join(' ')
      .split(/[\s,]+/);
  const omit = config.values.omit === undefined ? [env.NODE_ENV === 'production' ? 'dev' : ''] : listed('omit');
  return omit.includes('dev') && !listed('include').includes('dev');
}
