// Hand-written registry client rather than pacote/npm-registry-fetch: keeps `opsctl outdated` start-up time low.
import { ExitCode, OpsError } from '../errors.js';
import { redact } from '../output/redact.js';
import { createAgents, httpGet, tlsFromNpmConfig } from './http-get.js';
import { authHeader, type NpmConfig, registryFor } from './npm-config.js';
import type { Packument } from './types.js';

/** npm's abbreviated metadata: everything version picking needs, a fraction of the full document's size. */
const CORGI = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*';
const MAX_SOCKETS = 16; // npm's own default maxsockets is 15

export interface RegistryOptions {
  /** Per request, from the first byte sent to the last byte read. */
  timeoutMs: number;
}

/** A packument, or why npm would silently skip the dependency (404/403, as `npm outdated` does). */
export type PackumentResult = { ok: true; packument: Packument } | { ok: false; status: number };

/**
 * Fetches each package document once per run (keyed by registry and name) over keep-alive connections.
 * Network failures, timeouts and 401s throw an OpsError with exit 4. Call `close()` when done.
 */
export function createPackumentFetcher(config: NpmConfig, options: RegistryOptions) {
  const cache = new Map<string, Promise<PackumentResult>>();
  const agents = createAgents(tlsFromNpmConfig(config.values), MAX_SOCKETS);
  return {
    get(name: string): Promise<PackumentResult> {
      const registry = registryFor(config, name);
      const key = `${registry} ${name}`;
      let hit = cache.get(key);
      if (!hit) {
        hit = fetchPackument(name, registry, authHeader(config, registry), agents, options.timeoutMs);
        cache.set(key, hit);
      }
      return hit;
    },
    close(): void {
      agents.http.destroy();
      agents.https.destroy();
    },
  };
}

export type PackumentFetcher = ReturnType<typeof createPackumentFetcher>;

async function fetchPackument(
  name: string,
  registry: string,
  auth: string | undefined,
  agents: ReturnType<typeof createAgents>,
  timeoutMs: number,
): Promise<PackumentResult> {
  const escaped = name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
  const headers: Record<string, string> = { accept: CORGI, 'user-agent': `opsctl (node ${process.version})` };
  if (auth) headers.authorization = auth;
  const where = redact(registry);
  let res: Awaited<ReturnType<typeof httpGet>>;
  try {
    res = await httpGet(`${registry}${escaped}`, headers, agents, timeoutMs);
  } catch (err) {
    const code = (err as { code?: string }).code;
    const detail =
      code === 'ETIMEDOUT' ? `did not answer within ${timeoutMs} ms` : `could not be reached (${code ?? String(err)})`;
    throw unreachable(where, `${detail} when asked for ${name}`, err);
  }
  if (res.status === 404 || res.status === 403) return { ok: false, status: res.status };
  if (res.status === 401) {
    throw new OpsError('REGISTRY_AUTH', `The npm registry ${where} refused us (401) when asked for ${name}.`, {
      hint: 'Log in with `npm login --registry <url>`, or set the //host/:_authToken entry in .npmrc.',
      exitCode: ExitCode.unreachable,
    });
  }
  if (res.status !== 200) throw unreachable(where, `answered ${res.status} ${res.statusText} when asked for ${name}`);
  try {
    return { ok: true, packument: JSON.parse(res.body.toString('utf8')) as Packument };
  } catch (err) {
    throw unreachable(where, `sent a document for ${name} that is not JSON`, err);
  }
}

function unreachable(where: string, detail: string, cause?: unknown): OpsError {
  return new OpsError('REGISTRY_UNREACHABLE', `The npm registry ${where} ${detail}.`, {
    hint: 'Check the network and the registry setting (`npm config get registry`, .npmrc); raise --timeout for slow links.',
    exitCode: ExitCode.unreachable,
    cause,
  });
}
