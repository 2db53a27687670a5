import type { ListrTask } from 'listr2';
import type { Migrator } from './migrator.js';
import type { Direction, PreparedMigration } from './steps.js';

/** What a migrate/rollback run did, filled in as its tasks finish. */
export interface MigrationRunResult {
  /** Names applied (up) or reverted (down), in order; under a dry run, what would be. */
  done: string[];
  /** Dry run: no-transaction migrations that could not be executed inside the rolled-back transaction. */
  notRun: string[];
}

/** One task per migration, run in order; the first failure stops the list (exitOnError). */
export function migrationTasks(
  migrator: Migrator,
  plan: PreparedMigration[],
  direction: Direction,
  result: MigrationRunResult,
): ListrTask[] {
  return plan.map((migration) => ({
    title: migration.source.name,
    task: async (_, task) => {
      const started = performance.now();
      const notRunBefore = migrator.session.notRun.length;
      await migrator.run(direction, migration);
      const name = migration.source.name;
      if (migrator.session.notRun.length > notRunBefore) {
        result.notRun.push(name);
        task.skip(`${name}: runs outside a transaction (no-transaction), so a dry run cannot execute it`);
        return;
      }
      result.done.push(name);
      const verb = direction === 'up' ? 'applied' : 'reverted';
      task.title = `${name} ${migrator.session.dryRun ? `would be ${verb}` : verb} (${Math.round(performance.now() - started)} ms)`;
    },
  }));
}
