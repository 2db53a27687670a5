import { probeTcp } from '../net/reach.js';
import { addUrlPassword } from '../output/redact.js';
import { parseRedisInfo, type RedisCacheInfo } from './cache-info.js';
import { classifyRedisError, type RedisFailure } from './classify-error.js';
import { oneShotClient } from './client.js';

/** Where a Redis URL points (never the password). */
export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  hasPassword: boolean;
  /** `host:port`, safe to print. */
  label: string;
}

export type RedisLayer = 'dns' | 'tcp' | 'auth' | 'ping';

export type RedisProbeResult =
  | { ok: true; version?: string; cache?: RedisCacheInfo; durationMs: number }
  | { ok: false; layer: RedisLayer; failure: RedisFailure; detail: string; durationMs: number };

const DEFAULT_PORT = 6379;

/**
 * A Redis URL whose password holds an unencoded `/`, `#` or `?`: a URL parser ends the host part there, and part of
 * the password would be read (and reported) as the host name. Found before parsing; never quotes the URL.
 */
export function readRedisUrlProblem(url: string): { message: string; hint: string } | undefined {
  const rest = url.replace(/^rediss?:\/\//i, '');
  const at = rest.lastIndexOf('@');
  const early = [...new Set(rest.slice(0, Math.max(0, at)).match(/[#?/]/g) ?? [])];
  if (!early.length) return undefined;
  return {
    message: `the password in the Redis URL contains ${early.map((c) => `"${c}"`).join(' and ')}, which ends the host part of a URL early`,
    hint: 'Percent-encode it in the URL: # as %23, ? as %3F, / as %2F (encodeURIComponent does it).',
  };
}

export function parseRedisTarget(url: string): RedisTarget | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!/^rediss?:$/.test(parsed.protocol)) return undefined;
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || 'localhost';
  const port = Number(parsed.port || DEFAULT_PORT);
  return {
    host,
    port,
    tls: parsed.protocol === 'rediss:',
    hasPassword: Boolean(parsed.password),
    label: `${host.includes(':') ? `[${host}]` : host}:${port}`,
  };
}

/**
 * DNS → TCP → AUTH (during connect) → PING, with ioredis as a one-shot client: no retries, no offline
 * queue, bounded connect time, and always disconnected at the end.
 */
export async function probeRedis(
  url: string,
  target: RedisTarget,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<RedisProbeResult> {
  addUrlPassword(url);
  const started = performance.now();
  const left = () => Math.max(1, Math.floor(options.timeoutMs - (performance.now() - started)));
  const elapsed = () => Math.round(performance.now() - started);

  const reach = await probeTcp(target.host, target.port, left(), options.signal);
  if (!reach.ok) {
    const layer = reach.failure === 'dns' ? 'dns' : 'tcp';
    return { ok: false, layer, failure: reach.failure, detail: reach.code, durationMs: elapsed() };
  }

  const client = await oneShotClient(url, left());
  // an AUTH failure arrives as an 'error' event (the reply) while connect() rejects with "Connection is closed"
  let replyError: Error | undefined;
  client.on('error', (err: Error) => {
    if (err.name === 'ReplyError') replyError ??= err;
  });
  const disconnect = () => closeNow(client);
  options.signal?.addEventListener('abort', disconnect, { once: true });
  let layer: RedisLayer = 'auth';
  try {
    await deadline(client.connect(), left(), options.signal);
    layer = 'ping';
    await deadline(client.ping(), left(), options.signal);
    // INFO may be forbidden by an ACL; the version and the cache review are extras, PING is the check
    const info = await deadline(client.info(), left(), options.signal).catch(() => '');
    const cache = info ? parseRedisInfo(info) : undefined;
    return { ok: true, version: cache?.version, cache, durationMs: elapsed() };
  } catch (err) {
    const cause = replyError ?? err;
    const failure = options.signal?.aborted ? 'timeout' : classifyRedisError(cause);
    return { ok: false, layer, failure, detail: (cause as Error).message, durationMs: elapsed() };
  } finally {
    options.signal?.removeEventListener('abort', disconnect);
    closeNow(client);
  }
}

/**
 * Disconnect without lingering. After a failed handshake ioredis has already closed ("end"), and
 * disconnecting again would arm its socket-destroy timer on a closed socket, keeping a CLI alive.
 */
function closeNow(client: import('ioredis').Redis): void {
  if (client.status !== 'end') client.disconnect();
}

/** ioredis' connectTimeout covers the TCP connect only; a server that accepts and never answers needs this. */
async function deadline<T>(work: Promise<T>, ms: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), ms);
  });
  try {
    if (signal?.aborted) throw Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' });
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}
