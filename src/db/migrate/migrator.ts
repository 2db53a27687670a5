import type { ResolvedConfig } from '../../config/types.js';
import { connectClient, verifyDatabaseUrl } from './connect.js';
import { type MigrationsFolder, verifyMigrationsFolder } from './folder.js';
import { acquireMigrationLock, DEFAULT_LOCK_TIMEOUT_MS, type LockHolder, lockKeys } from './lock.js';
import type { Session } from './session-types.js';
import { readSchemaObjects } from './snapshot.js';
import { type MigrationSource, readMigrationSources } from './sources.js';
import { compareState, ensureStateTable, type MigrationStatus, readAppliedRows } from './state.js';
import { type PreparedMigration, toRunnable } from './steps.js';
import { stateTableStorage } from './storage.js';
import { loadUmzug } from './umzug-core.js';

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

/** A connected client holding the migration lock, with the folder read and the state table loaded. */
export interface Migrator {
  folder: MigrationsFolder;
  sources: MigrationSource[];
  session: Session;
  status(): MigrationStatus;
  /** Run prepared migrations one at a time through umzug (the caller decides the order and the progress). */
  run(direction: 'up' | 'down', migration: PreparedMigration): Promise<void>;
  /** The schema's user-visible objects now (for a dry run's report of what would change). */
  schemaObjects(): Promise<Set<string>>;
  /** Roll back a dry run, release the lock, disconnect. Safe to call twice. */
  close(): Promise<void>;
}

/** Read the folder (usage errors first, before touching the database), connect, lock, create the state table. */
export async function openMigrator(options: MigratorOptions): Promise<Migrator> {
  const folder = verifyMigrationsFolder(options.root, options.database.migrations);
  const sources = readMigrationSources(folder.dir, folder.label);
  const url = verifyDatabaseUrl(options.database);
  const state = { schema: options.database.schema, table: options.database.table };
  const client = await connectClient(url);
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
    release = await acquireMigrationLock(client, lockKeys(state.schema, state.table), {
      timeoutMs: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS,
      onWait: options.onLockWait,
    });
    if (options.dryRun) {
      await client.query('begin');
      dryRunOpen = true;
    }
    await ensureStateTable(client, state);
    const rows = await readAppliedRows(client, state);
    const session: Session = {
      client,
      state,
      applied: new Map(rows.map((r) => [r.name, r])),
      dryRun: Boolean(options.dryRun),
      notRun: [],
    };
    const prepared: PreparedMigration[] = [];
    const Umzug = loadUmzug();
    const umzug = new Umzug<Session>({
      migrations: async () => prepared.map(toRunnable),
      context: session,
      storage: stateTableStorage(),
      logger: undefined,
    });
    return {
      folder,
      sources,
      session,
      status: () =>
        compareState(
          sources,
          [...session.applied.values()].sort((a, b) => (a.name < b.name ? -1 : 1)),
        ),
      async run(direction, migration) {
        prepared.splice(0, prepared.length, migration);
        try {
          if (direction === 'up') await umzug.up({ migrations: [migration.source.name] });
          else await umzug.down({ migrations: [migration.source.name] });
        } catch (err) {
          // umzug wraps what a migration throws in a MigrationError; ours already names the file
          throw (err as { name?: string }).name === 'MigrationError' && (err as Error).cause
            ? (err as Error).cause
            : err;
        }
      },
      schemaObjects: () => readSchemaObjects(client, state),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
export { readMigrationStatus } from './read-status.js';
