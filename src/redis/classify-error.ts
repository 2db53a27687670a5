import { classifySocketError, errorCode } from '../net/reach.js';

/** Why a Redis connection or PING failed, one value per runbook entry. */
export type RedisFailure =
  | 'dns'
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'closed'
  | 'noauth'
  | 'wrongpass'
  | 'no-password-set'
  | 'loading'
  | 'unknown';

/**
 * Map what ioredis rejects with to a failure kind. Server replies are matched by their error prefix
 * (NOAUTH, WRONGPASS, ERR invalid password), socket errors by `code`.
 */
export function classifyRedisError(err: unknown): RedisFailure {
  const message = err instanceof Error ? err.message : String(err);
  if (/\bNOAUTH\b/.test(message)) return 'noauth';
  if (/\bWRONGPASS\b|ERR invalid (username-)?password/.test(message)) return 'wrongpass';
  // Redis < 6 answers AUTH with this when it has no password; Redis 6+ only warns (ioredis logs it)
  if (/AUTH.*(no password is set|without any password configured)/i.test(message)) return 'no-password-set';
  if (/^LOADING\b/.test(message)) return 'loading';
  const code = errorCode(err);
  if (code === 'ECONNRESET' || code === 'EPIPE' || /Connection is closed/i.test(message)) return 'closed';
  if (code || err instanceof AggregateError) return classifySocketError(err).failure;
  if (/ETIMEDOUT|timed? ?out/i.test(message)) return 'timeout';
  return 'unknown';
}
