import type { Redis } from 'ioredis';

/** ioredis ends the socket, then destroys it if still open after this long (default 2 s, which a CLI exiting after
 * a hung server would wait out). */
const DISCONNECT_TIMEOUT_MS = 100;

/**
 * A one-shot ioredis client (not connected yet): no retries, no offline queue, bounded connect and command time.
 * Loaded on first use: ioredis is a large module most commands never need.
 */
export async function oneShotClient(url: string, timeoutMs: number): Promise<Redis> {
  const ioredis = await import('ioredis');
  // Node's ESM loader exposes the named export; the bundle's CommonJS interop only the default (the class)
  const RedisClass = ioredis.Redis ?? (ioredis.default as unknown as typeof ioredis.Redis);
  return new RedisClass(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    connectionName: 'opsctl',
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
}
