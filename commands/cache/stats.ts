import { ExitCode, errorMessage, OpsError, usageError } from '../../src/errors.js';
import { readCacheStats } from '../../src/redis/cache-stats.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { out, table } from '../shared/output.js';

export interface CacheStatsFlags extends GlobalOptions {
  timeout?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** `opsctl cache stats [--json]` (README, "`opsctl cache stats`"). */
export function stats(cmd: Invocation<CacheStatsFlags>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const url = cli.config().redis.url;
    if (!url) throw usageError('No Redis is configured.', 'Set redis.url in the config or REDIS_URL.');
    if (!/^rediss?:\/\//i.test(url)) {
      throw usageError('The Redis URL is not a redis:// or rediss:// URL.', 'Fix redis.url or REDIS_URL.');
    }
    const s = await readCacheStats(url, { timeoutMs: cli.opts.timeout ?? DEFAULT_TIMEOUT_MS }).catch((err) => {
      throw new OpsError('REDIS', `Could not read the cache statistics: ${errorMessage(err).replace(/\.$/, '')}.`, {
        hint: '`opsctl doctor --only redis` says why.',
        exitCode: ExitCode.unreachable,
        cause: err,
      });
    });
    if (cli.json) return cli.finish(ExitCode.ok, { ...s });
    const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
    out(`Redis ${s.version ?? ''} at ${s.target}`);
    out(
      `hit rate   ${s.hitRate === null ? 'n/a (fewer than 100 lookups)' : `${(s.hitRate * 100).toFixed(1)}%`} (${s.hits} hits, ${s.misses} misses since start)`,
    );
    out(
      `memory     ${mb(s.memory.usedBytes)} of ${s.memory.maxBytes ? mb(s.memory.maxBytes) : 'no limit'} (policy ${s.memory.policy ?? 'unknown'})`,
    );
    out(`evicted    ${s.evictedKeys} keys since start`);
    out(
      `keys       ${
        Object.entries(s.keys)
          .map(([db, n]) => `${db}: ${n}`)
          .join(', ') || 'none'
      }`,
    );
    const how = s.sampled.complete ? 'all' : 'a sample of';
    out(`\nBiggest key patterns (${how} ${s.sampled.keys} keys, SCAN in ${s.sampled.durationMs} ms):`);
    out(
      table(
        s.patterns.map((p) => [p.pattern, String(p.keys), mb(p.bytes)]),
        ['pattern', 'keys', 'memory'],
      ),
    );
    return ExitCode.ok;
  });
}
