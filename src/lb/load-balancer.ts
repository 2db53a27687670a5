import { isAbsolute, resolve } from 'node:path';
import { configError, OpsError } from '../errors.js';
import {
  type DrainResult,
  drainServer,
  findServersByAddress,
  type HaproxyServer,
  type RuntimeOptions,
  readServers,
  readyServer,
} from './haproxy-runtime.js';
import { parseHaproxySocket, verifyHaproxyAdmin } from './haproxy-socket.js';

/**
 * What the rolling deploy needs from a load balancer, for one target. `host` is a host's address as its servers'
 * lines in the load balancer write it (the host part of its ssh destination: `10.0.0.11`, or a name resolving to it).
 */
export interface LoadBalancer {
  /** For progress lines: "HAProxy /run/haproxy/admin.sock, backend shop_api" (+ the host's servers, when given). */
  describe(host?: string): Promise<string>;
  /** Preflight: the socket answers at level admin, each backend exists, and every host has a server in one. */
  verify(hosts: string[]): Promise<void>;
  /** The host's servers (all backends, or the backend of `pkg`) with their state and current sessions. */
  servers(host: string, pkg?: string): Promise<HaproxyServer[]>;
  /** Drain each of the host's servers (concurrently), wait for their sessions to end (or the limit), then maint. */
  takeOut(host: string): Promise<DrainResult[]>;
  /** Set each of the host's servers ready and wait until HAProxy sees it UP (else exit 3 naming it). */
  putBack(host: string): Promise<void>;
}

/**
 * `targets.<name>.loadBalancer.haproxy`: the admin socket, and `backend` either one name (every package of the
 * target behind that backend: the usual single web package) or a map package → backend name (packages left out of
 * the map are not behind HAProxy). A host's servers are found in those backends by its address.
 */
export interface HaproxySettings {
  socket: string;
  backends: string | Record<string, string>;
}

export interface LoadBalancerOptions extends RuntimeOptions {
  /** Folder a relative unix socket path is read from (the app root). */
  root?: string;
  /** How long a drained server may keep sessions (default 30 s). */
  drainTimeoutMs?: number;
  /** How long a server put back may take to be UP (default 30 s). */
  readyTimeoutMs?: number;
}

/** The backend names `settings` lists, each once. */
export function haproxyBackends(settings: HaproxySettings): string[] {
  return typeof settings.backends === 'string' ? [settings.backends] : [...new Set(Object.values(settings.backends))];
}

/** The backend `pkg` is behind: the one name, or its entry in the map (undefined: not behind HAProxy). */
export function backendOf(settings: HaproxySettings, pkg: string): string | undefined {
  return typeof settings.backends === 'string' ? settings.backends : settings.backends[pkg];
}

/** A LoadBalancer over HAProxy's runtime API. */
export function haproxyLoadBalancer(settings: HaproxySettings, options: LoadBalancerOptions = {}): LoadBalancer {
  let socket = parseHaproxySocket(settings.socket);
  if (socket.kind === 'unix' && !isAbsolute(socket.path) && options.root) {
    socket = { ...socket, path: resolve(options.root, socket.path) };
  }
  const backends = haproxyBackends(settings);
  if (backends.length === 0)
    throw configError('loadBalancer.haproxy.backend names no backend.', 'Name one backend, or one per package.');

  const serversOf = async (host: string, names = backends) => {
    const all = await Promise.all(names.map((backend) => readServers(socket, backend, options)));
    return findServersByAddress(all.flat(), host);
  };
  const required = async (host: string) => {
    const found = await serversOf(host);
    if (found.length === 0) throw noServer(host);
    return found;
  };
  const noServer = (host: string) =>
    configError(
      `HAProxy at ${socket.text} has no server with address ${host} in backend ${backends.join(', ')}.`,
      `Add \`server <name> ${host}:<port> check\` to the backend (\`opsctl lb haproxy --target <name>\` prints one), or fix the target's hosts.`,
    );

  return {
    async describe(host) {
      const base = `HAProxy ${socket.text}, backend ${backends.join(', ')}`;
      if (!host) return base;
      const names = (await serversOf(host)).map((s) => `${s.backend}/${s.name}`);
      return `${base}: ${names.join(', ') || 'no server'} for ${host}`;
    },
    async verify(hosts) {
      await verifyHaproxyAdmin(socket, options.answerTimeoutMs);
      const all = (await Promise.all(backends.map((backend) => readServers(socket, backend, options)))).flat();
      for (const host of hosts) {
        if ((await findServersByAddress(all, host)).length === 0) throw noServer(host);
      }
    },
    async servers(host, pkg) {
      if (pkg === undefined) return serversOf(host);
      const backend = backendOf(settings, pkg);
      return backend ? serversOf(host, [backend]) : [];
    },
    async takeOut(host) {
      const servers = await required(host);
      return Promise.all(
        servers.map((s) => drainServer(socket, s.backend, s.name, { ...options, timeoutMs: options.drainTimeoutMs })),
      );
    },
    async putBack(host) {
      const servers = await required(host);
      const results = await Promise.allSettled(
        servers.map((s) => readyServer(socket, s.backend, s.name, { ...options, timeoutMs: options.readyTimeoutMs })),
      );
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
      if (failed.length === 1) throw failed[0];
      if (failed.length > 1) {
        const first = failed[0] instanceof OpsError ? failed[0] : undefined;
        throw new OpsError(
          'HAPROXY_NOT_UP',
          failed.map((e) => (e instanceof Error ? e.message : String(e))).join(' '),
          {
            hint: first?.hint,
            exitCode: first?.exitCode ?? 3,
            cause: failed[0],
          },
        );
      }
    },
  };
}
