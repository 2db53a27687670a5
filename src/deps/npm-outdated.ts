import { ExitCode, OpsError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import type { Runner } from '../process/runner.js';
import { bumpOf, byRisk } from './bump.js';
import { declaredDependencies, readManifest } from './declared.js';
import type { OutdatedDependency } from './types.js';

interface NpmOutdatedEntry {
  current?: string;
  wanted: string;
  latest: string;
  dependent?: string;
  location?: string;
}

const NETWORK_CODES = /^(E401|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|EHOSTUNREACH|ERR_SOCKET_TIMEOUT)$/;

/** Turn one package's `npm outdated --json` output into opsctl lines (kind from the package.json). */
export function parseNpmOutdated(stdout: string, pkg: string, devNames: Set<string>): OutdatedDependency[] {
  const doc = (stdout.trim() ? JSON.parse(stdout) : {}) as Record<string, NpmOutdatedEntry | NpmOutdatedEntry[]>;
  return Object.entries(doc).flatMap(([name, entries]) =>
    (Array.isArray(entries) ? entries : [entries]).map((e) => ({
      package: pkg,
      name,
      kind: devNames.has(name.split(':')[0]!) ? ('dev' as const) : ('prod' as const),
      current: e.current ?? null,
      wanted: e.wanted,
      latest: e.latest,
      bump: bumpOf(e.current ?? null, e.wanted, e.latest),
      ...(e.location ? { location: e.location } : {}),
    })),
  );
}

export const NPM_OUTDATED_TIMEOUT_MS = 120_000;

/**
 * The slow, always-faithful path: `npm outdated --json` in each package (concurrently). Used when the npm
 * configuration holds settings opsctl's own registry client cannot honour (proxies, custom CAs).
 */
export async function npmOutdated(
  packages: AppPackage[],
  runner: Runner,
  timeoutMs = NPM_OUTDATED_TIMEOUT_MS,
): Promise<OutdatedDependency[]> {
  const lists = await Promise.all(
    packages.map(async (pkg) => {
      const declared = declaredDependencies(await readManifest(pkg.dir));
      const devNames = new Set(declared.filter((d) => d.type === 'dev').map((d) => d.name));
      const res = await runner.run('npm', ['outdated', '--json'], { cwd: pkg.dir, timeoutMs });
      if (res.timedOut) {
        throw new OpsError(
          'REGISTRY_UNREACHABLE',
          `npm outdated in ${pkg.name} did not finish within ${timeoutMs} ms.`,
          {
            hint: 'Check the network and the registry setting (`npm config get registry`).',
            exitCode: ExitCode.unreachable,
          },
        );
      }
      let parsed: unknown;
      try {
        parsed = res.stdout.trim() ? JSON.parse(res.stdout) : {};
      } catch (cause) {
        throw new OpsError('NPM_FAILED', `npm outdated in ${pkg.name} printed no JSON: ${res.stderr.slice(-400)}`, {
          exitCode: ExitCode.failed,
          cause,
        });
      }
      const error = (parsed as { error?: { code?: string; summary?: string } }).error;
      if (error) {
        const network = NETWORK_CODES.test(error.code ?? '');
        throw new OpsError(
          network ? 'REGISTRY_UNREACHABLE' : 'NPM_FAILED',
          `npm outdated in ${pkg.name}: ${error.summary}`,
          {
            hint: network ? 'Check the network, the registry setting and your npm login.' : undefined,
            exitCode: network ? 4 : 3,
          },
        );
      }
      return parseNpmOutdated(res.stdout, pkg.name, devNames);
    }),
  );
  return lists.flat().sort(byRisk);
}
