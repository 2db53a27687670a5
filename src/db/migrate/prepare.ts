import type { Migrator } from './migrator.js';
import { type DownOptions, planDown, planUp, type UpOptions, verifyNoDrift } from './plan.js';
import type { MigrationStatus } from './state.js';
import { type PreparedMigration, prepareMigrations } from './steps.js';

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
