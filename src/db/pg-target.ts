/** Where a PostgreSQL URL points, for messages and the network layers (never the password). */
export interface PgTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  /** host is a Unix socket folder: no DNS or TCP layer. */
  socket: boolean;
  /** `host:port/database`, safe to print. */
  label: string;
}

const DEFAULT_PORT = 5432;

/** Read host, port, database and user from a `postgres://` URL; undefined when it is not one. */
export function parsePgTarget(url: string): PgTarget | undefined {
  // `postgres://app@/shop?host=/run/postgresql` (socket, no host) is valid for pg but not for URL
  const parsed = parseUrl(url) ?? parseUrl(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*?)([/?#]|$)/, '$1localhost$2'));
  if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol)) return undefined;
  const queryHost = parsed.searchParams.get('host') || undefined;
  const host = queryHost ?? (decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, '')) || 'localhost');
  const port = Number(parsed.port || parsed.searchParams.get('port') || DEFAULT_PORT);
  const user = decodeURIComponent(parsed.username) || parsed.searchParams.get('user') || process.env.USER || 'postgres';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  const hostLabel = host.includes(':') ? `[${host}]` : host;
  return { host, port, database, user, socket: host.startsWith('/'), label: `${hostLabel}:${port}/${database}` };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
