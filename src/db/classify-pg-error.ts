import { classifySocketError, errorCode } from '../net/reach.js';

/** Why a PostgreSQL connection or query failed, one value per runbook entry. */
export type PgFailure =
  | 'dns'
  | 'refused'
  | 'unreachable'
  | 'timeout'
  | 'closed'
  | 'tls-required'
  | 'tls-unsupported'
  | 'tls-untrusted'
  | 'tls-failed'
  | 'not-allowed'
  | 'auth'
  | 'login-denied'
  | 'database-missing'
  | 'starting'
  | 'too-many-clients'
  | 'query'
  | 'unknown';

const TLS_CERT_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Map what `pg` rejects with to a failure kind: server errors by SQLSTATE, socket errors by `code`
 * (never by message: Node 20's AggregateError has an empty one), library errors by their fixed text.
 */
export function classifyPgError(err: unknown): PgFailure {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  switch (code) {
    case '28P01':
      return 'auth';
    case '28000':
      if (/no pg_hba\.conf entry.*(no encryption|SSL off)/i.test(message)) return 'tls-required';
      if (/no pg_hba\.conf entry/i.test(message)) return 'not-allowed';
      return 'login-denied';
    case '3D000':
      return 'database-missing';
    case '57P03':
      return 'starting';
    case '53300':
      return 'too-many-clients';
  }
  if (TLS_CERT_CODES.has(code)) return 'tls-untrusted';
  if (/does not support SSL/i.test(message)) return 'tls-unsupported';
  if (/error establishing an SSL connection/i.test(message) || code.startsWith('ERR_SSL')) return 'tls-failed';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'closed';
  if (SOCKET_CODES.has(code) || err instanceof AggregateError) return classifySocketError(err).failure;
  if (/timeout expired|timeout exceeded|Query read timeout|connection timeout/i.test(message)) return 'timeout';
  if (/Connection terminated/i.test(message)) return 'closed';
  if (/^[0-9A-Z]{5}$/.test(code)) return 'query';
  return 'unknown';
}
