import type { InspectorAddress } from './inspector-url.js';

/** A Node.js inspector answers `/json/list` within milliseconds; a loaded host gets some slack. */
const JSON_LIST_TIMEOUT_MS = 3_000;

/**
 * The debug targets an inspector lists at `http://<host>:<port>/json/list`; undefined when nothing there answers like
 * a Node.js inspector (no answer, not JSON, no `webSocketDebuggerUrl`).
 */
export async function readInspectorTargets(
  host: string,
  port: number,
  timeoutMs = JSON_LIST_TIMEOUT_MS,
): Promise<InspectorAddress[] | undefined> {
  const base = host.includes(':') ? `[${host}]` : host;
  try {
    const res = await fetch(`http://${base}:${port}/json/list`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return undefined;
    const body = (await res.json()) as unknown;
    if (!Array.isArray(body)) return undefined;
    const urls = body.flatMap((t) => {
      const url = (t as { webSocketDebuggerUrl?: unknown }).webSocketDebuggerUrl;
      return typeof url === 'string' && /^wss?:\/\//.test(url) ? [url] : [];
    });
    return urls.length ? urls.map((url) => ({ url, host, port })) : undefined;
  } catch {
    return undefined;
  }
}
