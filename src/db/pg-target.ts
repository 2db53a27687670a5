import { accessSync, constants } from 'node:fs';
import type { ResolvedConfig } from '../config/types.js';
import { ExitCode, OpsError } from '../errors.js';

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

/** Why a database URL cannot work, worded for people; never quotes the URL or its password. */
export interface PgUrlProblem {
  message: string;
  hint: string;
}

const DEFAULT_PORT = 5432;
// no password in the example: a URL with one would be masked on output like any other
const SHAPE = 'postgres://user@host:5432/database (user:password@ when there is a password)';
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
/** Query parameters naming files that pg reads before connecting (a missing one is an ENOENT thrown at us). */
const FILE_PARAMS = ['sslrootcert', 'sslcert', 'sslkey'];
/** Query parameters pg and libpq read, whose values may hold an `@`. */
const QUERY_PARAMS = new Set(['user', 'password', 'host', 'options', 'application_name', 'dbname', ...FILE_PARAMS]);

/** Read host, port, database and user from a `postgres://` URL; undefined when it is not a usable one. */
export function parsePgTarget(url: string): PgTarget | undefined {
  const read = readPgUrl(url);
  return 'target' in read ? read.target : undefined;
}

/**
 * The target of a database URL, or a config error (exit 2) saying what is wrong with it: no scheme, a port
 * out of range, `#`/`?`/`/` left unencoded in the password, a TLS file that does not exist.
 * `from` names where the URL came from (`DATABASE_URL`, `database.url`).
 */
export function verifyPgTarget(url: string, from?: string): PgTarget {
  const read = readPgUrl(url, from);
  if ('target' in read) return read.target;
  throw urlError(read.problem);
}

/** `verifyPgTarget`'s answer as a value, for doctor. */
export function readPgUrl(url: string, from?: string): { target: PgTarget } | { problem: PgUrlProblem } {
  const problem = findProblem(url, from ? `the database URL (${from})` : 'the database URL');
  if (problem) return { problem };
  // `postgres://app@/shop?host=/run/postgresql` (socket, no host) is valid for pg but not for URL
  const parsed = parseUrl(url) ?? parseUrl(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*?)([/?#]|$)/, '$1localhost$2'));
  if (!parsed) return { problem: notAUrl('the database URL') };
  const queryHost = parsed.searchParams.get('host') || undefined;
  const host = queryHost ?? (decodeURIComponent(parsed.hostname.replace(/^\[|\]$/g, '')) || 'localhost');
  // what the URL leaves out, pg (like libpq) takes from PGPORT, PGUSER, PGDATABASE: a confirmation names that target
  const envPort = /^\d+$/.test(process.env.PGPORT ?? '') ? process.env.PGPORT : undefined;
  // pg-connection-string lets ?port= and ?user= win over the URL's own
  const port = Number(parsed.searchParams.get('port') || parsed.port || envPort || DEFAULT_PORT);
  const user =
    parsed.searchParams.get('user') ||
    decodeURIComponent(parsed.username) ||
    process.env.PGUSER ||
    process.env.USER ||
    'postgres';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || process.env.PGDATABASE || user;
  const hostLabel = host.includes(':') ? `[${host}]` : host;
  return {
    target: { host, port, database, user, socket: host.startsWith('/'), label: `${hostLabel}:${port}/${database}` },
  };
}

/** `what` is "the database URL (DATABASE_URL)": messages start with it, lower case, as doctor's do. */
function findProblem(url: string, what: string): PgUrlProblem | undefined {
  const scheme = SCHEME.exec(url)?.[1];
  if (!scheme) {
    return {
      message: `${what} has no scheme: expected ${SHAPE}`,
      hint: 'Start it with postgres:// (or postgresql://); without one the rest is not read as user, password and host.',
    };
  }
  if (!/^postgres(ql)?$/i.test(scheme)) {
    return {
      message: `${what} is a ${scheme}:// URL, not a postgres:// URL`,
      hint: `Use ${SHAPE}.`,
    };
  }
  const rest = url.slice(scheme.length + 3);
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const early = [...new Set(userinfo.match(/[#?/]/g) ?? [])];
  if (early.length && !isInQueryParameter(rest, at)) {
    return {
      message: `the user name or password in ${what} contains ${early.map((c) => `"${c}"`).join(' and ')}, which ends the host part of a URL early`,
      hint: 'Percent-encode it in the URL: # as %23, ? as %3F, / as %2F (encodeURIComponent does it).',
    };
  }
  const authority = rest.slice(at + 1).split(/[/?#]/)[0] ?? '';
  const port = /^(?:\[[^\]]*\]|[^:[]*):(.*)$/.exec(authority)?.[1];
  if (port !== undefined && port !== '' && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return {
      message: `the port "${port}" in ${what} is not a number from 1 to 65535`,
      hint: 'Fix the port (PostgreSQL listens on 5432 unless configured otherwise).',
    };
  }
  const parsed = parseUrl(url) ?? parseUrl(url.replace(/^(postgres(?:ql)?:\/\/[^/?#]*?)([/?#]|$)/, '$1localhost$2'));
  if (!parsed) return notAUrl(what);
  for (const param of FILE_PARAMS) {
    const file = parsed.searchParams.get(param);
    if (file && !isReadable(file)) {
      return {
        message: `the file "${file}" given as ${param} in ${what} does not exist or cannot be read`,
        hint: `Fix the path (a relative one is read from the current folder)${param === 'sslrootcert' ? ', or remove sslrootcert to trust the system CAs' : ''}.`,
      };
    }
  }
  return undefined;
}

/** `?user=app@tenant` (an `@` in a libpq parameter's value) is not a password ending the address early. */
function isInQueryParameter(rest: string, at: number): boolean {
  const query = rest.indexOf('?');
  if (query < 0 || query > at) return false;
  const param =
    rest
      .slice(query + 1, at)
      .split('&')
      .at(-1) ?? '';
  const equals = param.indexOf('=');
  return equals > 0 && QUERY_PARAMS.has(param.slice(0, equals));
}

function notAUrl(what: string): PgUrlProblem {
  return {
    message: `${what} is not a valid URL`,
    hint: `Use ${SHAPE}, with special characters in the password percent-encoded (encodeURIComponent).`,
  };
}

function urlError(problem: PgUrlProblem): OpsError {
  const message = `${problem.message.charAt(0).toUpperCase()}${problem.message.slice(1)}.`;
  return new OpsError('DB_URL', message, { hint: problem.hint, exitCode: ExitCode.usage });
}

/** Where the database URL came from, as people set it. */
export function urlSourceLabel(source: ResolvedConfig['database']['source']): string {
  return { config: 'database.url', env: 'DATABASE_URL', embedded: 'embedded database', none: 'none' }[source];
}

function isReadable(file: string): boolean {
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
