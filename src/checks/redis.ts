import type { RedisCacheInfo } from '../redis/cache-info.js';
import type { RedisFailure } from '../redis/classify-error.js';
import type { RedisTarget } from '../redis/probe.js';
import type { Check, CheckResult } from './types.js';

/** Leave a little of the check's time so our own "timed out" answer wins over the generic one. */
const TIMEOUT_MARGIN_MS = 150;

/** Redis check: DNS, TCP, AUTH, PING. Skipped when the app has no Redis. */
export const redisCheck: Check = {
  id: 'redis',
  async run(ctx) {
    const url = ctx.config.redis.url;
    const unset = ctx.config.unsetRefs?.['redis.url'];
    // `redis.url: ${REDIS_URL}` with REDIS_URL unset is a Redis the app meant to have (README, "`opsctl doctor`")
    if (!url && unset) return unsetVariable('redis.url', unset, 'without Redis');
    if (!url) {
      return {
        status: 'skip',
        message: 'no Redis configured (set redis.url in the config or REDIS_URL to check it)',
      };
    }
    const { parseRedisTarget, probeRedis, readRedisUrlProblem } = await import('../redis/probe.js');
    const problem = readRedisUrlProblem(url);
    if (problem) return { status: 'fail', ...problem };
    const target = parseRedisTarget(url);
    if (!target) {
      return {
        status: 'fail',
        message: 'the Redis URL is not a redis:// or rediss:// URL',
        hint: 'Use redis://[:password@]host:6379 in redis.url or REDIS_URL.',
      };
    }
    const timeoutMs = Math.max(1, ctx.timeoutMs - TIMEOUT_MARGIN_MS);
    const res = await probeRedis(url, target, { timeoutMs, signal: ctx.signal });
    if (res.ok) {
      const message = `${target.label}: PONG${res.version ? ` (Redis ${res.version})` : ''}`;
      if (!res.cache) return { status: 'pass', message };
      const { cacheWarnings } = await import('../redis/cache-info.js');
      const key = `redis:${target.label}`;
      const warnings = cacheWarnings(res.cache, ctx.memo?.get(key) as RedisCacheInfo | undefined);
      ctx.memo?.set(key, res.cache);
      if (!warnings.length) return { status: 'pass', message };
      return {
        status: 'warn',
        message: `${message}; cache: ${warnings[0]}${warnings.length > 1 ? ` (+${warnings.length - 1} more)` : ''}`,
        hint: 'For a cache: set maxmemory and an evicting policy (allkeys-lru), and `opsctl cache stats` for what fills it. A queue or store that must keep every key (BullMQ) needs noeviction and no limit: those two warnings do not apply to it.',
        details: warnings,
      };
    }
    const { message, hint } = explain(res.failure, target, timeoutMs);
    return { status: 'fail', message, hint, details: res.failure === 'unknown' ? [res.detail] : undefined };
  },
};

/**
 * A URL the config reads from variables that are not set in this shell or `.env` (`redis.url: ${REDIS_URL}`): a
 * warning naming them rather than a skip, since processes started from this shell would run without it.
 */
export function unsetVariable(path: string, names: string[], without: string): CheckResult {
  const vars = names.map((n) => `\${${n}}`).join(', ');
  const them = names.length > 1 ? 'them' : 'it';
  return {
    status: 'warn',
    message: `the config's ${path} reads ${vars}, which ${names.length > 1 ? 'are' : 'is'} not set in this shell or .env`,
    hint: `Export ${names.join(', ')} or put ${them} in the app's .env; \`opsctl start\`/\`restart\` from this shell would run the app ${without}.`,
  };
}

/** The runbook: one message and one next step per failure. */
function explain(failure: RedisFailure, t: RedisTarget, timeoutMs: number): { message: string; hint: string } {
  const where = t.label;
  const entries: Record<RedisFailure, { message: string; hint: string }> = {
    dns: {
      message: `cannot resolve host "${t.host}"`,
      hint: 'Check the host name in redis.url / REDIS_URL, and DNS on this machine.',
    },
    refused: {
      message: `Redis is not running at ${where} (connection refused)`,
      hint: `Start Redis, or fix the host/port in redis.url / REDIS_URL; \`redis-cli -h ${t.host} -p ${t.port} ping\` confirms.`,
    },
    unreachable: {
      message: `cannot reach ${where} (network unreachable)`,
      hint: 'Check the network path: VPN, firewall, security groups.',
    },
    timeout: {
      message: `${where} did not answer within ${timeoutMs} ms`,
      hint: `Something accepts the connection but does not answer as Redis: a stuck server, a firewall, the wrong port${t.tls ? '' : ', or a TLS-only server (use rediss://)'}.`,
    },
    closed: {
      message: `${where} closed the connection`,
      hint: t.tls
        ? 'Does this server speak TLS? Try redis://.'
        : 'Does this server require TLS? Try rediss://. Also check its maxclients and logs.',
    },
    noauth: {
      message: `${where} requires a password and none was given`,
      hint: 'Put the password in redis.url / REDIS_URL, as `:<password>@` in front of host:port.',
    },
    wrongpass: {
      message: `${where} rejected the ${t.hasPassword ? 'password' : 'credentials'} (wrong password or user)`,
      hint: "Check the password (and user, for Redis 6 ACLs) in redis.url / REDIS_URL against the server's requirepass or ACL.",
    },
    'no-password-set': {
      message: `${where} has no password but the URL gives one`,
      hint: 'Remove the password from the URL, or set requirepass on the server.',
    },
    loading: {
      message: `Redis at ${where} is still loading its data set`,
      hint: 'Wait until loading finishes and run doctor again.',
    },
    unknown: {
      message: `could not talk to Redis at ${where}`,
      hint: 'Run with --debug and check the Redis server log.',
    },
  };
  return entries[failure];
}
