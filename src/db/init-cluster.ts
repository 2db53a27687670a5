import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import { redact } from '../output/redact.js';
import type { Runner } from '../process/runner.js';
import { readPgBinaries } from './binaries.js';
import type { EmbeddedPaths, EmbeddedState } from './embedded-state.js';
import type { ServerUser } from './os-user.js';

const CONNECT_TIMEOUT_MS = 10_000;
const STATEMENT_TIMEOUT_MS = 30_000;
const INITDB_TIMEOUT_MS = 120_000; // initdb writes a whole cluster: seconds normally, longer on a slow disk

/** A cluster is initialised once initdb finished: PG_VERSION is among the last files it writes. */
export function isInitialised(paths: EmbeddedPaths): boolean {
  return existsSync(join(paths.dataDir, 'PG_VERSION'));
}

/**
 * Run the package's initdb: password (scram-sha-256) auth for `state.user`. As root it runs as the server's OS
 * account, which owns the data folder; the password goes through a file only that account can read.
 */
export async function initialiseCluster(
  paths: EmbeddedPaths,
  state: EmbeddedState,
  runner: Runner,
  user: ServerUser,
): Promise<void> {
  // a half-written data folder from an interrupted initdb would make initdb refuse to run
  if (existsSync(paths.dataDir)) rmSync(paths.dataDir, { recursive: true, force: true });
  mkdirSync(paths.dataDir, { recursive: true, mode: 0o700 });
  const pwfile = join(paths.dir, 'initdb-password');
  writeFileSync(pwfile, `${state.password}\n`, { mode: 0o600 });
  if (user.uid !== undefined) {
    for (const path of [paths.dataDir, pwfile]) chownSync(path, user.uid, user.gid ?? user.uid);
  }
  try {
    const { initdb } = await readPgBinaries(user);
    const res = await runner.run(
      initdb,
      [
        `--pgdata=${paths.dataDir}`,
        '--auth=scram-sha-256',
        `--username=${state.user}`,
        `--pwfile=${pwfile}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      { cwd: paths.dir, timeoutMs: INITDB_TIMEOUT_MS, uid: user.uid, gid: user.gid, env: { LC_MESSAGES: 'C' } },
    );
    if (res.exitCode !== 0 || res.timedOut) {
      throw new OpsError('DB_INIT', 'Could not initialise the embedded PostgreSQL cluster (initdb failed).', {
        hint: `initdb said:\n${redact(lastLines(`${res.stdout}\n${res.stderr}`, 15))}`,
        exitCode: ExitCode.failed,
      });
    }
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Create the app's database when it does not exist yet (first start, or a start after a failed one). */
export async function ensureDatabase(state: EmbeddedState): Promise<boolean> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: '127.0.0.1',
    port: state.port,
    user: state.user,
    password: state.password,
    database: 'postgres',
    application_name: 'opsctl',
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    // a fresh local server answers at once; these only keep a wedged one from hanging `db start`
    statement_timeout: STATEMENT_TIMEOUT_MS,
    lock_timeout: STATEMENT_TIMEOUT_MS,
  });
  client.on('error', () => undefined); // a dropped connection surfaces through the awaited calls
  try {
    await client.connect();
    const found = await client.query('select 1 from pg_database where datname = $1', [state.database]);
    if (found.rowCount) return false;
    await client.query(`create database ${client.escapeIdentifier(state.database)}`);
    return true;
  } catch (err) {
    throw new OpsError(
      'DB_CREATE',
      `The embedded PostgreSQL started but creating database "${state.database}" failed: ${(err as Error).message}`,
      {
        hint: 'Run `opsctl db start` again; if it keeps failing, look at .opsctl/pg/postgres.log.',
        exitCode: ExitCode.failed,
        cause: err,
      },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
