import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { configError } from '../errors.js';
import type { TargetConfig } from './target-schema.js';
import type { ResolvedConfig } from './types.js';

/** One host of a target: `user@host:port` taken apart (`[v6]:port` for an IPv6 address). */
export interface TargetHost {
  /** As written in the config: the name used in output. */
  name: string;
  user?: string;
  /** Host name or address, without brackets. */
  host: string;
  port?: number;
}

/** A `targets.<name>` entry, resolved: paths absolute, hosts parsed, defaults applied. */
export interface Target {
  name: string;
  hosts: TargetHost[];
  /** Absolute path on every host; everything opsctl keeps there lives under it. */
  path: string;
  ssh: { identityFile?: string; knownHosts?: string; connectTimeoutS: number };
  loadBalancer?: { haproxy: { socket: string; backends: Record<string, string> | string } };
  maxUnavailable: number;
  build: 'local' | 'remote';
}

const DEFAULT_CONNECT_TIMEOUT_S = 10;

/** The target `--target <name>` names, or an exit-2 error listing the known ones. */
export function readTarget(config: ResolvedConfig, name: string): Target {
  const raw = config.targets[name];
  if (!raw) {
    const known = Object.keys(config.targets);
    throw configError(
      `targets.${name}: no such target in ${config.file ? 'the config' : 'opsctl.config.yaml (no config file)'}.`,
      known.length
        ? `Known targets: ${known.join(', ')}.`
        : 'Add `targets.<name>` to the config (README, "Several hosts").',
    );
  }
  return resolveTarget(config.root, name, raw);
}

export function resolveTarget(root: string, name: string, raw: TargetConfig): Target {
  const hosts = raw.hosts.map((h, i) => parseDestination(h, `targets.${name}.hosts.${i}`));
  const seen = new Set<string>();
  for (const h of hosts) {
    const key = `${h.host}:${h.port ?? 22}`;
    if (seen.has(key)) throw configError(`targets.${name}.hosts lists ${h.name} twice.`, 'List each host once.');
    seen.add(key);
  }
  const lb = raw.loadBalancer?.haproxy;
  if (raw.build === 'remote') {
    throw configError(
      `targets.${name}.build: "remote" (building on the first host) is not supported yet.`,
      'Leave out `build` (the release is built here, once, and the same bytes go to every host).',
    );
  }
  return {
    name,
    hosts,
    path: raw.path,
    ssh: {
      identityFile: localPath(root, raw.ssh?.identityFile),
      knownHosts: localPath(root, raw.ssh?.knownHosts),
      connectTimeoutS: raw.ssh?.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT_S,
    },
    ...(lb ? { loadBalancer: { haproxy: { socket: lb.socket, backends: lb.backend } } } : {}),
    maxUnavailable: Math.min(raw.maxUnavailable ?? 1, hosts.length),
    build: raw.build ?? 'local',
  };
}

/** `~/x` is the home folder's, a relative path is the app root's. */
function localPath(root: string, path: string | undefined): string | undefined {
  if (!path) return undefined;
  if (path === '~' || path.startsWith('~/')) return resolve(homedir(), path.slice(2));
  return isAbsolute(path) ? path : resolve(root, path);
}

// hand-written: ssh destinations are `[user@]host[:port]` with `[v6]` brackets; no library parses exactly this
export function parseDestination(text: string, key: string): TargetHost {
  const at = text.lastIndexOf('@');
  const user = at >= 0 ? text.slice(0, at) : undefined;
  const rest = at >= 0 ? text.slice(at + 1) : text;
  const m = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(rest) ?? /^([A-Za-z0-9._-]+)(?::(\d+))?$/.exec(rest);
  const port = m?.[2] === undefined ? undefined : Number(m[2]);
  const bad =
    !m ||
    (port !== undefined && (port < 1 || port > 65535)) ||
    user === '' ||
    (user && !/^[A-Za-z0-9._-]+$/.test(user));
  if (bad || m[1]!.startsWith('-')) {
    throw configError(
      `${key}: "${text}" is not an ssh destination.`,
      'Write user@host, user@host:port or user@[ipv6]:port.',
    );
  }
  return { name: text, ...(user ? { user } : {}), host: m[1]!, ...(port ? { port } : {}) };
}
