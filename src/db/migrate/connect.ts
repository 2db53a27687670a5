import { userInfo } from 'node:os';
import pg from 'pg';
import type { ResolvedConfig } from '../../config/types.js';
import { configError, ExitCode, OpsError } from '../../errors.js';
import { redact } from '../../output/redact.js';
import { urlSourceLabel, verifyPgTarget } from '../pg-target.js';
import { APPLICATION_NAME, runnerApplicationName } from './runner-name.js';
import { explainBounds, setSessionBounds } from './session.js';

export { APPLICATION_NAME };

const CONNECT_TIMEOUT_MS = 10_000; // a firewall that drops packets should not hang a deploy
/** Default bounds of a session (`migrate status`); `migrate` sets its own from --lock-timeout. */
const SESSION_LOCK_TIMEOUT_MS = 10_000;
const SESSION_STATEMENT_TIMEOUT_MS = 30_000;
const SIDE_TIMEOUT_MS = 2_000;

/** The database URL to migrate, or a usage/unreachable error saying how to get one. */
export function verifyDatabaseUrl(database: ResolvedConfig['database']): string {
  if (database.url) {
    verifyPgTarget(database.url, urlSourceLabel(database.source));
    return database.url;
  }
  if (database.source === 'none') {
    const vars = database.unsetVars ?? [];
    if (vars.length > 0) {
      throw configError(
        `No database URL for production: database.url reads ${vars.map((v) => `\${${v}}`).join(', ')}, which ${vars.length > 1 ? 'are' : 'is'} not set (nor is DATABASE_URL).`,
        `Set ${vars.join(' and ')} in the environment or .env; the embedded database is for local use only.`,
      );
    }
    throw configError(
      'No database URL for production: neither database.url nor DATABASE_URL is set.',
      'Set DATABASE_URL (or environments.production.database.url); the embedded database is for local use only.',
    );
  }
  throw new OpsError('DB_NOT_STARTED', 'No database configured and the embedded PostgreSQL is not running.', {
    hint: 'Run `opsctl db start`, or set DATABASE_URL / database.url.',
    exitCode: ExitCode.unreachable,
  });
}

/** How long a session may wait, and for what; every database session of opsctl has these bounds. */
export interface ConnectOptions {
  /** The TCP + TLS + authentication handshake. */
  connectTimeoutMs?: number;
  /** Longest wait for one lock (`lock_timeout`); past it a statement fails with exit 5 naming the holder. */
  lockTimeoutMs?: number;
  /** Longest statement (`statement_timeout`); 0 for none (the migration lock lifts it for migrations). */
  statementTimeoutMs?: number;
  /** Aborting it closes the connection at once (doctor's per-check timeout), so the process can exit. */
  signal?: AbortSignal;
}

/**
 * Connect a client, bounded: `lock_timeout` and `statement_timeout` are set on the session, and a statement
 * that runs into them fails with an error naming the cause (README, "`opsctl migrate`"). Connection failures
 * become exit-4 errors that say which layer failed.
 */
export async function connectClient(url: string, options: ConnectOptions = {}): Promise<pg.Client> {
  verifyPgTarget(url);
  const connectionString = withDefaultUser(url);
  const lockTimeoutMs = options.lockTimeoutMs ?? SESSION_LOCK_TIMEOUT_MS;
  const client = new pg.Client({
    connectionString,
    application_name: runnerApplicationName(),
    connectionTimeoutMillis: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
  });
  // an idle client whose server goes away emits 'error'; without a listener that would crash the process
  client.on('error', () => {});
  const destroy = () => destroyClient(client);
  options.signal?.addEventListener('abort', destroy, { once: true });
  client.once('end', () => options.signal?.removeEventListener('abort', destroy));
  try {
    await client.connect();
    // set after connecting rather than as startup parameters, which poolers such as PgBouncer refuse
    await setSessionBounds(client, {
      lockTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs ?? SESSION_STATEMENT_TIMEOUT_MS,
    });
  } catch (err) {
    destroy();
    throw classifyConnectError(err, url);
  }
  explainBounds(client, () => connectSide(connectionString), lockTimeoutMs);
  return client;
}

/**
 * A plain SQL migration (or seed) travels with its `commit` in one query, so a runner killed mid-way must not leave
 * the server to finish and commit it: the server checks every 3 s that the client is still there and aborts the
 * query when it is gone (PostgreSQL 14+; older servers lack the setting, which is then skipped).
 */
export async function abortWhenClientGone(client: pg.Client): Promise<void> {
  await client.query(`do $$ begin perform set_config('client_connection_check_interval', '3000', false);
  exception when others then null; end $$`);
}

/** A second session to look at a waiting one from: small bounds, never itself watched. */
async function connectSide(connectionString: string): Promise<pg.Client> {
  const side = new pg.Client({
    connectionString,
    application_name: `${APPLICATION_NAME} (lock check)`,
    connectionTimeoutMillis: SIDE_TIMEOUT_MS,
    query_timeout: SIDE_TIMEOUT_MS,
  });
  side.on('error', () => {});
  try {
    await side.connect();
    return side;
  } catch (err) {
    destroyClient(side);
    throw err;
  }
}

/** Close the socket now: `end()` waits for the server, which is what we no longer want to do. */
function destroyClient(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** Like libpq (psql): with no user in the URL, PGUSER or USER, use the OS account name (pg would send none). */
function withDefaultUser(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || process.env.PGUSER || process.env.USER) return url;
    parsed.username = encodeURIComponent(userInfo().username);
    return parsed.toString();
  } catch {
    return url;
  }
}

interface PgLikeError {
  code?: string;
  message?: string;
}

/** Turn a `pg` connect error into an OpsError (exit 4) naming the cause: not running, auth, database missing, timeout. */
export function classifyConnectError(err: unknown, url: string): OpsError {
  const e = (err ?? {}) as PgLikeError;
  const target = describeTarget(url);
  const make = (code: string, message: string, hint: string) =>
    new OpsError(code, message, { hint, exitCode: ExitCode.unreachable, cause: err });
  switch (e.code) {
    case 'ECONNREFUSED':
      return make(
        'DB_NOT_RUNNING',
        `PostgreSQL is not running at ${target.hostPort} (connection refused).`,
        'Start the database (`opsctl db start` for the embedded one), or check host and port in DATABASE_URL.',
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(
        'DB_DNS',
        `The database host "${target.host}" could not be resolved.`,
        'Check the host name in DATABASE_URL.',
      );
    case '28P01':
      return make(
        'DB_AUTH',
        `${target.hostPort} rejected the password for user "${target.user}".`,
        'Check the user and password in database.url or DATABASE_URL.',
      );
    case '28000':
      if (/no pg_hba\.conf entry.*(no encryption|SSL off)/i.test(e.message ?? '')) {
        return make(
          'DB_TLS_REQUIRED',
          `${target.hostPort} requires TLS and we connected without it.`,
          'Add ?sslmode=require to the database URL.',
        );
      }
      return make(
        'DB_AUTH',
        `${target.hostPort} refused user "${target.user}": ${e.message}.`,
        'Add a matching pg_hba.conf line on the server, or grant the role LOGIN.',
      );
    case '3D000':
      return make(
        'DB_MISSING',
        `database "${target.database}" does not exist on ${target.hostPort}.`,
        `Create it (\`createdb ${target.database}\`) or fix the database name in the database URL.`,
      );
    case '57P03':
      return make(
        'DB_STARTING',
        `PostgreSQL at ${target.hostPort} is starting up or shutting down.`,
        'Wait a moment and retry.',
      );
    case '53300':
      return make(
        'DB_FULL',
        `PostgreSQL at ${target.hostPort} has too many connections.`,
        'Close idle connections or raise max_connections.',
      );
  }
  const message = e.message ?? String(err);
  if (/timeout/i.test(message) || e.code === 'ETIMEDOUT') {
    return make(
      'DB_TIMEOUT',
      `PostgreSQL at ${target.hostPort} did not answer within the connect timeout.`,
      'Check that the host is reachable (firewall, VPN) and that the server is not overloaded.',
    );
  }
  return make(
    'DB_UNREACHABLE',
    `Could not connect to PostgreSQL at ${target.hostPort}: ${redact(message)}`,
    'Check DATABASE_URL and that the server is reachable.',
  );
}

function describeTarget(url: string): { host: string; hostPort: string; user: string; database: string } {
  try {
    const u = new URL(url);
    const host = u.hostname || 'localhost';
    return {
      host,
      hostPort: `${host}:${u.port || 5432}`,
      user: decodeURIComponent(u.username) || process.env.PGUSER || process.env.USER || 'postgres',
      database: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
    };
  } catch {
    return { host: '?', hostPort: redact(url), user: '?', database: '?' };
  }
}
