import { addUrlPassword } from '../output/redact.js';
import { hitRate, parseRedisInfo, type RedisCacheInfo } from './cache-info.js';
import { oneShotClient } from './client.js';

/** `opsctl cache stats` (README, "`opsctl cache stats`"). */
export interface CacheStats {
  /** `host:port`, never the password. */
  target: string;
  version?: string;
  /** Keyspace hits / lookups since the server started; null with fewer than 100 lookups. */
  hitRate: number | null;
  hits: number;
  misses: number;
  keys: Record<string, number>;
  memory: { usedBytes: number; maxBytes: number; policy?: string };
  evictedKeys: number;
  /** The sample: how many keys SCAN returned in the time allowed, and whether it saw the whole database. */
  sampled: { keys: number; complete: boolean; durationMs: number };
  /** Key patterns (`session:*`) by sampled memory, biggest first. */
  patterns: Array<{ pattern: string; keys: number; bytes: number }>;
}

export interface CacheStatsOptions {
  /** The whole command's bound: SCAN stops when it is near. */
  timeoutMs: number;
  /** At most this many keys are sampled. */
  maxKeys?: number;
  top?: number;
}

const SCAN_COUNT = 500;
const MAX_KEYS = 20_000;
const TOP = 10;

/**
 * INFO, then SCAN (never KEYS, which blocks the server) over the selected database, bounded in keys and time, with
 * MEMORY USAGE per sampled key (pipelined). Keys are grouped by pattern: every `:`-separated part holding a digit
 * becomes `*` (`session:8f3a2c` → `session:*`).
 */
export async function readCacheStats(url: string, options: CacheStatsOptions): Promise<CacheStats> {
  addUrlPassword(url);
  const started = performance.now();
  const client = await oneShotClient(url, options.timeoutMs);
  // why the connection failed (ECONNREFUSED, WRONGPASS) arrives as an 'error' event, while connect() rejects
  // with a bare "Connection is closed": the first is what the operator needs
  let firstError: Error | undefined;
  client.on('error', (err: Error) => {
    firstError ??= err;
  });
  try {
    await client.connect();
    const info: RedisCacheInfo = parseRedisInfo(await client.info());
    const byPattern = new Map<string, { keys: number; bytes: number }>();
    const maxKeys = options.maxKeys ?? MAX_KEYS;
    const budget = options.timeoutMs / 2; // the other half: MEMORY USAGE of the last batch, and slack
    let cursor = '0';
    let sampled = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', SCAN_COUNT);
      cursor = next;
      const pipeline = client.pipeline();
      for (const key of keys) pipeline.memory('USAGE', key);
      const sizes = (await pipeline.exec()) ?? [];
      keys.forEach((key, i) => {
        const entry = byPattern.get(patternOf(key)) ?? { keys: 0, bytes: 0 };
        entry.keys++;
        entry.bytes += Number(sizes[i]?.[1] ?? 0) || 0;
        byPattern.set(patternOf(key), entry);
      });
      sampled += keys.length;
    } while (cursor !== '0' && sampled < maxKeys && performance.now() - started < budget);
    const rate = hitRate(info);
    return {
      target: label(url),
      version: info.version,
      hitRate: rate === undefined ? null : Math.round(rate * 1000) / 1000,
      hits: info.hits,
      misses: info.misses,
      keys: info.keys,
      memory: { usedBytes: info.usedMemory, maxBytes: info.maxmemory, policy: info.policy },
      evictedKeys: info.evictedKeys,
      sampled: { keys: sampled, complete: cursor === '0', durationMs: Math.round(performance.now() - started) },
      patterns: [...byPattern]
        .map(([pattern, v]) => ({ pattern, ...v }))
        .sort((a, b) => b.bytes - a.bytes || b.keys - a.keys)
        .slice(0, options.top ?? TOP),
    };
  } catch (err) {
    throw /Connection is closed/i.test((err as Error).message) && firstError ? firstError : err;
  } finally {
    if (client.status !== 'end') client.disconnect();
  }
}

export function patternOf(key: string): string {
  return key
    .split(':')
    .map((part) => (/\d/.test(part) ? '*' : part))
    .join(':');
}

function label(url: string): string {
  const u = new URL(url);
  return `${u.hostname || 'localhost'}:${u.port || 6379}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
}
