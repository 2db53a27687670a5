import { probeTcp } from '../net/reach.js';
import { addUrlPassword } from '../output/redact.js';
import { classifyPgError, type PgFailure } from './classify-pg-error.js';
import type { PgTarget } from './pg-target.js';

/** The layer a probe got to: each one has its own runbook entry. */
export type PgLayer = 'dns' | 'tcp' | 'connect' | 'query';

export type PgProbeResult =
  | { ok: true; serverVersion: string; durationMs: number }
  | { ok: false; layer: PgLayer; failure: PgFailure; code: string; detail: string; durationMs: number };

export interface PgProbeOptions {
  /** The whole probe's budget; each layer gets what is left of it. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * DNS → TCP → (TLS, authentication, database: the pg handshake) → `select 1`. Stops at the first layer
 * that fails and says which, so "not running" and "wrong password" never look alike.
 */
export async function probePostgres(url: string, target: PgTarget, options: PgProbeOptions): Promise<PgProbeResult> {
  addUrlPassword(url);
  const started = performance.now();
  const left = () => Math.max(1, options.timeoutMs - (performance.now() - started));
  const elapsed = () => Math.round(performance.now() - started);

  if (!target.socket) {
    const reach = await probeTcp(target.host, target.port, left(), options.signal);
    if (!reach.ok) {
      const layer = reach.failure === 'dns' ? 'dns' : 'tcp';
      return { ok: false, layer, failure: reach.failure, code: reach.code, detail: reach.code, durationMs: elapsed() };
    }
  }

  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: url,
    application_name: 'opsctl',
    connectionTimeoutMillis: Math.ceil(left()),
    query_timeout: Math.ceil(left()),
  });
  // after a failed connect pg may still emit 'error' (socket reset); the awaited calls carry the error
  client.on('error', () => undefined);
  const destroy = () =>
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  options.signal?.addEventListener('abort', destroy, { once: true });
  let layer: PgLayer = 'connect';
  try {
    await client.connect();
    layer = 'query';
    const res = await client.query<{ ok: number; version: string }>(
      "select 1 as ok, current_setting('server_version') as version",
    );
    const serverVersion = res.rows[0]?.version ?? 'unknown';
    await client.end(); // a clean goodbye, so the server log shows no "unexpected EOF"
    return { ok: true, serverVersion, durationMs: elapsed() };
  } catch (err) {
    const failure = options.signal?.aborted ? 'timeout' : classifyPgError(err);
    const code = (err as { code?: string }).code ?? '';
    return { ok: false, layer, failure, code, detail: (err as Error).message || code, durationMs: elapsed() };
  } finally {
    options.signal?.removeEventListener('abort', destroy);
    // after a failure end() may wait for an 'end' event that never comes: destroy the socket instead
    destroy();
  }
}
