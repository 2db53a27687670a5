import type { ResolvedConfig } from '../config/types.js';
import type { PgFailure } from '../db/classify-pg-error.js';
import { findMigrationsFolder } from '../db/migrate/sources.js';
import { type PgTarget, readPgUrl, urlSourceLabel } from '../db/pg-target.js';
import { unsetVariable } from './redis.js';
import type { Check, CheckResult } from './types.js';

/** Leave a little of the check's time so our own "timed out" answer wins over the generic one. */
const TIMEOUT_MARGIN_MS = 150;

/**
 * Layered PostgreSQL check: DNS, TCP, TLS, authentication, database exists, `select 1`. Skipped when the app has
 * no database: no URL, no embedded database and no migrations.
 */
export const postgresCheck: Check = {
  id: 'postgres',
  async run(ctx) {
    const { database } = ctx.config;
    const unset = ctx.config.unsetRefs?.['database.url'];
    if (!database.url) {
      if (needsDatabase(ctx.config)) return missingUrl(ctx.config, unset);
      // `database.url: ${DATABASE_URL}` unset: the app meant to have a database (README, "`opsctl doctor`")
      return unset ? unsetVariable('database.url', unset, 'without its database') : notConfigured();
    }
    const read = readPgUrl(database.url, sourceLabel(database.source));
    if ('problem' in read) return { status: 'fail', ...read.problem };
    const { target } = read;
    if (database.source === 'embedded') {
      const stopped = await embeddedStopped(ctx.config.root, target.port);
      if (stopped) return stopped;
    }
    const { probePostgres } = await import('../db/probe.js');
    const timeoutMs = Math.max(1, ctx.timeoutMs - TIMEOUT_MARGIN_MS);
    const res = await probePostgres(database.url, target, { timeoutMs, signal: ctx.signal });
    if (res.ok) {
      return { status: 'pass', message: `${target.label} as ${target.user}: PostgreSQL ${res.serverVersion}` };
    }
    const { message, hint } = explain(res.failure, target, database.source, timeoutMs);
    return {
      status: 'fail',
      message,
      hint,
      details: res.failure === 'unknown' || res.failure === 'query' ? [res.detail] : undefined,
    };
  },
};

/**
 * The embedded cluster's own postmaster must be up: probing its port when it is down could reach another
 * app's server there and blame the password.
 */
async function embeddedStopped(root: string, port: number): Promise<CheckResult | undefined> {
  const { isPostmasterRunning } = await import('../db/postmaster.js');
  const { embeddedPaths } = await import('../db/embedded-state.js');
  if (isPostmasterRunning(embeddedPaths(root).dataDir)) return undefined;
  return {
    status: 'fail',
    message: `the embedded PostgreSQL is not running (it was last on port ${port})`,
    hint: 'Start it with `opsctl db start`.',
  };
}

/** An app with migrations needs a database even when none is configured; any other app may have none. */
function needsDatabase(config: ResolvedConfig): boolean {
  try {
    return findMigrationsFolder(config.root, config.database.migrations) !== undefined;
  } catch {
    return true; // a configured migrations folder that is missing: the app meant to have a database
  }
}

function notConfigured(): CheckResult {
  return {
    status: 'skip',
    message: 'no database configured and no migrations (set database.url or DATABASE_URL to check one)',
  };
}

function missingUrl(config: ResolvedConfig, unset: string[] | undefined): CheckResult {
  const reads = unset ? ` (database.url reads ${unset.map((n) => `\${${n}}`).join(', ')}, not set here)` : '';
  if (config.database.source === 'embedded') {
    return {
      status: 'fail',
      message: `no database URL is configured${reads} and the embedded PostgreSQL has not been started`,
      hint: 'Run `opsctl db start` for a local database, or set database.url / DATABASE_URL.',
    };
  }
  return {
    status: 'fail',
    message: `no database is configured${config.envName ? ` for --env ${config.envName}` : ''}${reads}`,
    hint: 'Set database.url in the config (or environments.<env>.database.url), or DATABASE_URL.',
  };
}

const sourceLabel = urlSourceLabel;

/** The runbook: one message and one next step per failure. */
function explain(failure: PgFailure, t: PgTarget, source: ResolvedConfig['database']['source'], timeoutMs: number) {
  const where = `${t.host}:${t.port}`;
  const from = sourceLabel(source);
  const entries: Record<PgFailure, { message: string; hint: string }> = {
    dns: {
      message: `cannot resolve host "${t.host}"`,
      hint: `Check the host name in ${from}, and DNS on this machine.`,
    },
    refused: {
      message: `PostgreSQL is not running at ${where} (connection refused)`,
      hint:
        source === 'embedded'
          ? 'Start it with `opsctl db start`.'
          : `Start the server, or fix the host/port in ${from}; \`pg_isready -h ${t.host} -p ${t.port}\` confirms.`,
    },
    unreachable: {
      message: `cannot reach ${where} (network unreachable)`,
      hint: 'Check the network path: VPN, firewall, security groups.',
    },
    timeout: {
      message: `${where} did not answer within ${timeoutMs} ms`,
      hint: 'Something accepts or drops the connection without answering: a firewall, a stuck server or the wrong port. Check with `pg_isready`, or raise --timeout.',
    },
    closed: {
      message: `${where} closed the connection during the handshake`,
      hint: 'Is this port really PostgreSQL (not a proxy or another service)? Does the server require TLS (add ?sslmode=require)?',
    },
    'tls-required': {
      message: `${where} requires TLS and we connected without it`,
      hint: `Add ?sslmode=require to ${from}.`,
    },
    'tls-unsupported': {
      message: `${where} does not support TLS, but the URL asks for it`,
      hint: `Remove sslmode (or use sslmode=disable) in ${from}, or enable ssl on the server.`,
    },
    'tls-untrusted': {
      message: `the TLS certificate of ${where} is not trusted`,
      hint: 'Give the CA with sslrootcert=<file> in the URL (or NODE_EXTRA_CA_CERTS), or fix the server certificate.',
    },
    'tls-failed': {
      message: `the TLS handshake with ${where} failed`,
      hint: 'Check the server TLS settings and the sslmode in the URL.',
    },
    'not-allowed': {
      message: `${where} does not allow user "${t.user}" to connect to "${t.database}" from this host (pg_hba.conf)`,
      hint: 'Add a matching line to pg_hba.conf on the server and reload it.',
    },
    auth: {
      message: `${where} rejected the password for user "${t.user}"`,
      hint: `Check the user and password in ${from}.${source === 'embedded' ? ' The embedded password is in .opsctl/pg/opsctl.json.' : ''}`,
    },
    'login-denied': {
      message: `user "${t.user}" may not log in to ${where}`,
      hint: 'Grant it LOGIN (ALTER ROLE ... LOGIN) or use another user.',
    },
    'database-missing': {
      message: `database "${t.database}" does not exist on ${where}`,
      hint: `Create it: \`createdb -h ${t.host} -p ${t.port} -U ${t.user} ${t.database}\` (or fix the database name in ${from}).`,
    },
    starting: {
      message: `PostgreSQL at ${where} is starting up or shutting down`,
      hint: 'Wait a few seconds and run doctor again; if it persists, read the server log.',
    },
    'too-many-clients': {
      message: `PostgreSQL at ${where} has too many clients already`,
      hint: 'Find idle sessions in pg_stat_activity, lower the app pool size, or raise max_connections.',
    },
    query: {
      message: `connected to ${t.label}, but \`select 1\` failed`,
      hint: 'Read the server log; the database may be in recovery or out of resources.',
    },
    unknown: { message: `could not connect to ${t.label}`, hint: 'Run with --debug and check the server log.' },
  };
  return entries[failure];
}
