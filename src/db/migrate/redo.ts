import { type Migrator, prepareDown } from './engine.js';
import { type PreparedMigration, prepareMigrations } from './resolve.js';

/** What `migrate redo` will revert and apply again, checked before anything runs. */
export interface PreparedRedo {
  migration: PreparedMigration;
  /** Its file changed since it was applied: redo reverts with the file's down part and applies its up part as now. */
  drifted: boolean;
}

/**
 * The last applied migration (by name, as `rollback` picks it), checked both ways before anything runs: it must
 * have a down part (exit 3, as for rollback), its file must exist (exit 3), and neither part may end its own
 * transaction. Undefined when nothing is applied.
 */
export async function prepareRedo(migrator: Migrator): Promise<PreparedRedo | undefined> {
  const status = migrator.status();
  if (!status.executed.length) return undefined;
  const { plan } = await prepareDown(migrator, { step: 1 });
  const migration = plan[0]!;
  await prepareMigrations([migration.source], 'up');
  return { migration, drifted: status.drifted.includes(migration.source.name) };
}
