import type pg from 'pg';
import type { ResolvedConfig } from '../../config/types.js';
import { abortWhenClientGone, connectClient, verifyDatabaseUrl } from './connect.js';
import { acquireMigrationLock, DEFAULT_LOCK_TIMEOUT_MS, type LockHolder, lockKeys } from './lock.js';
import {
  compareState,
  type DownOptions,
  type MigrationStatus,
  planDown,
  planUp,
  type UpOptions,
  verifyNoDrift,
} from './plan.js';
import { type Direction, type PreparedMigration, prepareMigration, prepareMigrations, toRunnable } from './resolve.js';
import { readSchemaObjects } from './snapshot.js';
import {
  type MigrationSource,
  type MigrationsFolder,
  readMigrationSources,
  verifyMigrationsFolder,
} from './sources.js';
import {
  ensureStateTable,
  readAppliedRows,
  recordState,
  type Session,
  stateTableStorage,
  upgradeLegacyChecksums,
} from './state.js';

/** What opening a migrator needs: the app root and its resolved `database` config. */
export interface MigratorOptions {
  root: string;
  database: ResolvedConfig['database'];
  lockTimeoutMs?: number;
  /** Called when another runner holds the lock and we start waiting for it. */
  onLockWait?: (holder: LockHolder | undefined) => void;
  /** Run everything in one transaction that is rolled back on close. */
  dryRun?: boolean;
}

/** What a run reports as it goes, from umzug's `migrating`/`migrated` (`reverting`/`reverted`) events. */
export interface MigrationProgress {
  started?(name: string): void;
  /** `executed` is false for a no-transaction migration that a dry run could not execute. */
  finished?(name: string, durationMs: number, executed: boolean): void;
}

/** A connected client holding the migration lock, with the folder read and umzug set up over it. */
export interface Migrator {
  folder: MigrationsFolder;
  sources: MigrationSource[];
  dryRun: boolean;
  /** The state as read under the lock when the migrator was opened. */
  status(): MigrationStatus;
  /** Apply (up) or revert (down) a prepared plan through umzug; returns the names umzug ran, in order. */
  run(direction: Direction, plan: PreparedMigration[], progress?: MigrationProgress): Promise<string[]>;
  /**
   * Record a migration as applied (its state row, with the file's checksum) or pending (no row) without running it
   * (`migrate mark`); under a dry run inside the transaction that is rolled back.
   */
  record(source: { name: string; checksum: string }, as: 'applied' | 'pending'): Promise<void>;
  /** The schema's user-visible objects now (for a dry run's report of what would change). */
  schemaObjects(): Promise<Set<string>>;
  /** Roll back a dry run, release the lock, disconnect. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Read the folder (its usage errors first, before anything of the database is used), connect, lock, create the
 * state table. The connection is started before the files are read, so the server sets up the session meanwhile;
 * a folder that fails to read abandons it.
 */
export async function openMigrator(options: MigratorOptions): Promise<Migrator> {
  const folder = verifyMigrationsFolder(options.root, options.database.migrations);
  const url = attempt(() => verifyDatabaseUrl(options.database));
  // abandoned at once, not left to connect (or time out) before the process can exit
  const abandon = new AbortController();
  const connecting = url.ok ? connectClient(url.value, { signal: abandon.signal }) : undefined;
  connecting?.catch(() => {});
  let sources: MigrationSource[];
  try {
    sources = readMigrationSources(folder.dir, folder.label);
  } catch (err) {
    abandon.abort();
    throw err;
  }
  if (!url.ok) throw url.error;
  const state = { schema: options.database.schema, table: options.database.table };
  // loaded only here, so the other commands and `migrate status` do without it; started before the connection is
  // waited for, so it loads while the connection, the lock and the state table are
  const umzugModule = import('umzug');
  umzugModule.catch(() => {});
  const client = await connecting!;
  let release: (() => Promise<void>) | undefined;
  let dryRunOpen = false;
  const close = async () => {
    if (dryRunOpen) await client.query('rollback').catch(() => {});
    dryRunOpen = false;
    if (release) await release().catch(() => {});
    release = undefined;
    await client.end().catch(() => {});
  };
  try {
    await abortWhenClientGone(client);
    release = await acquireMigrationLock(client, lockKeys(state.schema, state.table), {
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      onWait: options.onLockWait,
    });
    if (options.dryRun) {
      await client.query('begin');
      dryRunOpen = true;
    }
    // a table created just now, under the lock, holds no rows: no need to read it
    const { created } = await ensureStateTable(client, state);
    const applied = created ? [] : await readAppliedRows(client, state);
    const rows = await upgradeLegacyChecksums(client, state, sources, applied);
    const status = compareState(sources, rows);
    const rowNames = new Set(rows.map((row) => row.name));
    const session: Session = { client, state, dryRun: Boolean(options.dryRun), notRun: [] };
    // loaded by the plan's checks; umzug runs the same modules
    const prepared = new Map<string, PreparedMigration>();
    const prepare = async (source: MigrationSource) => prepared.get(source.name) ?? (await prepareMigration(source));
    // `default` is umzug's CommonJS exports object, both under Node and in the esbuild bundle (which names no
    // exports of a CommonJS module)
    const { Umzug } = (await umzugModule).default;
    const umzug = new Umzug<Session>({
      // the folder as read and checked by readMigrationSources, as a list
      migrations: sources.map((source) => toRunnable(source, prepare)),
      context: session,
      storage: stateTableStorage(rowNames),
      logger: undefined,
    });
    return {
      folder,
      sources,
      dryRun: session.dryRun,
      status: () => status,
      async run(direction, plan, progress = {}) {
        const last = plan.at(-1);
        if (!last) return [];
        for (const p of plan) prepared.set(p.source.name, p);
        const startedAt = new Map<string, number>();
        const unsubscribe = [
          umzug.on(direction === 'up' ? 'migrating' : 'reverting', ({ name }) => {
            startedAt.set(name, performance.now());
            progress.started?.(name);
          }),
          umzug.on(direction === 'up' ? 'migrated' : 'reverted', ({ name }) => {
            const ms = performance.now() - (startedAt.get(name) ?? performance.now());
            progress.finished?.(name, ms, !session.notRun.includes(name));
          }),
        ];
        try {
          // `to` is inclusive in both directions (umzug's meaning); the plan's last migration pins the run to
          // exactly what was checked and, for a rollback, confirmed
          // one migration (`migrate redo`, `--step 1`): by name, so an older pending file is never applied with it
          const which = plan.length === 1 ? { migrations: [last.source.name] } : { to: last.source.name };
          const ran = direction === 'up' ? await umzug.up(which) : await umzug.down(which);
          return ran.map((m) => m.name);
        } catch (err) {
          // umzug wraps what a migration throws in a MigrationError; ours already names the file and the cause
          const e = err as Error;
          throw e.name === 'MigrationError' && e.cause ? e.cause : err;
        } finally {
          for (const off of unsubscribe) off();
        }
      },
      schemaObjects: () => readSchemaObjects(client, state),
      async record(source, as) {
        await recordState(client, state, source, as);
        if (as === 'applied') rowNames.add(source.name);
        else rowNames.delete(source.name);
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The value of `fn`, or what it threw (to report later, in the order the checks are documented). */
function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** What a migrate or rollback run will do, decided under the lock and checked before anything runs. */
export interface PreparedRun {
  status: MigrationStatus;
  plan: PreparedMigration[];
  /** Drifted or missing migrations run over because `allowDrift` was given (for a warning). */
  allowedDrift: string[];
}

/**
 * `migrate up`: refuse drift (exit 1) unless allowed, pick the pending migrations (`to`/`step`), and load them all,
 * so a broken module stops the run before the first migration.
 */
export async function prepareUp(
  migrator: Migrator,
  options: UpOptions & { allowDrift?: boolean },
): Promise<PreparedRun> {
  const status = migrator.status();
  verifyNoDrift(status, Boolean(options.allowDrift));
  const plan = await prepareMigrations(planUp(migrator.sources, status, options), 'up');
  return { status, plan, allowedDrift: [...status.drifted, ...status.missing] };
}

/** `rollback`: pick the applied migrations to revert and check each has a down part, before reverting any. */
export async function prepareDown(migrator: Migrator, options: DownOptions): Promise<PreparedRun> {
  const status = migrator.status();
  const plan = await prepareMigrations(planDown(migrator.sources, status, options), 'down');
  return { status, plan, allowedDrift: [] };
}

/** Read status without the lock, without umzug and without creating anything (`migrate status`, doctor). */
export async function readMigrationStatus(
  root: string,
  database: ResolvedConfig['database'],
  connect: (url: string) => Promise<pg.Client> = connectClient,
): Promise<{ folder: MigrationsFolder; status: MigrationStatus }> {
  const folder = verifyMigrationsFolder(root, database.migrations);
  const sources = readMigrationSources(folder.dir, folder.label);
  const client = await connect(verifyDatabaseUrl(database));
  try {
    const rows = await readAppliedRows(client, { schema: database.schema, table: database.table });
    return { folder, status: compareState(sources, rows) };
  } finally {
    await client.end().catch(() => {});
  }
}
