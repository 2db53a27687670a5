import { lookup } from 'node:dns/promises';
import { isIP, Socket } from 'node:net';

/** Why a host:port could not be reached at the network level. */
export type ReachFailure = 'dns' | 'refused' | 'timeout' | 'unreachable';

export type ReachResult = { ok: true } | { ok: false; failure: ReachFailure; code: string };

const DNS_NOT_FOUND = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'ENODATA', 'EAI_NONAME']);

/**
 * The network layers under a client protocol: the name resolves, then a TCP connection opens within
 * `timeoutMs`. The socket is always destroyed; nothing is sent.
 */
export async function probeTcp(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ReachResult> {
  if (!isIP(host)) {
    try {
      await withDeadline(lookup(host), timeoutMs, signal);
    } catch (err) {
      const code = errorCode(err);
      if (code === 'ETIMEDOUT') return { ok: false, failure: 'timeout', code };
      return { ok: false, failure: DNS_NOT_FOUND.has(code) ? 'dns' : 'unreachable', code };
    }
  }
  return connect(host, port, timeoutMs, signal);
}

function connect(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<ReachResult> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const finish = (result: ReachResult) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish({ ok: false, failure: 'timeout', code: 'ETIMEDOUT' });
    const timer = setTimeout(onAbort, timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true }));
    socket.once('error', (err) => finish(classifySocketError(err)));
    socket.connect({ host, port });
  });
}

/** Map a Node socket error (Node 20 may wrap it in an AggregateError with an empty message) to a layer. */
export function classifySocketError(err: unknown): ReachResult & { ok: false } {
  const code = errorCode(err);
  if (code === 'ECONNREFUSED') return { ok: false, failure: 'refused', code };
  if (code === 'ETIMEDOUT') return { ok: false, failure: 'timeout', code };
  if (DNS_NOT_FOUND.has(code)) return { ok: false, failure: 'dns', code };
  // EHOSTUNREACH, ENETUNREACH, ECONNRESET...: the host is there by name but we cannot talk to it
  return { ok: false, failure: 'unreachable', code: code || 'UNKNOWN' };
}

/** `err.code`, or the first inner error's code for an AggregateError. */
export function errorCode(err: unknown): string {
  const own = (err as { code?: unknown } | undefined)?.code;
  if (typeof own === 'string') return own;
  if (err instanceof AggregateError) return errorCode(err.errors[0]);
  return '';
}

async function withDeadline<T>(work: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const expired = new Promise<never>((_, reject) => {
    const fail = () => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }));
    timer = setTimeout(fail, timeoutMs);
    onAbort = fail;
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
