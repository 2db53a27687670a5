/** What `INFO` says about Redis as a cache (README, "`opsctl cache stats`"). */
export interface RedisCacheInfo {
  version?: string;
  usedMemory: number;
  /** 0: no limit. */
  maxmemory: number;
  policy?: string;
  evictedKeys: number;
  hits: number;
  misses: number;
  /** Keys per database (`db0` → 1234), from the keyspace section. */
  keys: Record<string, number>;
}

/** Memory this full (of maxmemory) is worth a warning: next come evictions or, under noeviction, failing writes. */
const MEMORY_WARN_RATIO = 0.9;
const HIT_RATE_WARN = 0.8;
/** Fewer lookups than this between two rounds say nothing about a hit rate. */
const MIN_LOOKUPS = 100;

/** Parse the text of `INFO` (any sections). */
export function parseRedisInfo(text: string): RedisCacheInfo {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  const num = (k: string) => Number(fields.get(k) ?? 0) || 0;
  const keys: Record<string, number> = {};
  for (const [k, v] of fields) {
    if (/^db\d+$/.test(k)) keys[k] = Number(/keys=(\d+)/.exec(v)?.[1] ?? 0);
  }
  return {
    version: fields.get('redis_version'),
    usedMemory: num('used_memory'),
    maxmemory: num('maxmemory'),
    policy: fields.get('maxmemory_policy'),
    evictedKeys: num('evicted_keys'),
    hits: num('keyspace_hits'),
    misses: num('keyspace_misses'),
    keys,
  };
}

/** The keyspace hit rate between two samples (or since start without one); undefined with too few lookups. */
export function hitRate(now: RedisCacheInfo, before?: RedisCacheInfo): number | undefined {
  const hits = now.hits - (before?.hits ?? 0);
  const lookups = hits + now.misses - (before?.misses ?? 0);
  return lookups >= MIN_LOOKUPS && hits >= 0 ? hits / lookups : undefined;
}

/**
 * The cache review of the runbook (README, "`opsctl doctor`", `redis`): no memory limit, a policy that refuses
 * writes when full, memory near the limit; with an earlier sample (watch's previous round), evictions since then
 * and a hit rate under 80% over the interval.
 */
export function cacheWarnings(info: RedisCacheInfo, before?: RedisCacheInfo): string[] {
  const warnings: string[] = [];
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (!info.maxmemory)
    warnings.push(
      `no maxmemory: as a cache it grows until the machine runs out of memory (${mb(info.usedMemory)} used)`,
    );
  if (info.policy === 'noeviction') warnings.push('maxmemory-policy noeviction: writes fail once memory is full');
  if (info.maxmemory && info.usedMemory > MEMORY_WARN_RATIO * info.maxmemory) {
    warnings.push(
      `memory at ${Math.round((100 * info.usedMemory) / info.maxmemory)}% of maxmemory (${mb(info.usedMemory)} of ${mb(info.maxmemory)})`,
    );
  }
  if (before && info.evictedKeys > before.evictedKeys) {
    warnings.push(`${info.evictedKeys - before.evictedKeys} keys evicted since the last round`);
  }
  const rate = before ? hitRate(info, before) : undefined;
  if (rate !== undefined && rate < HIT_RATE_WARN)
    warnings.push(`keyspace hit rate ${Math.round(rate * 100)}% since the last round (under 80%)`);
  return warnings;
}
