import type { ListrTask } from 'listr2';
import type { Migrator } from './engine.js';
import type { Direction, PreparedMigration } from './resolve.js';

/** What a migrate/rollback run did, filled in as its tasks finish. */
export interface MigrationRunResult {
  /** Names applied (up) or reverted (down), in order; under a dry run, what would be. */
  done: string[];
  /** Dry run: no-transaction migrations that could not be executed inside the rolled-back transaction. */
  notRun: string[];
}

interface Finished {
  durationMs: number;
  executed: boolean;
}

/**
 * One task per migration of the plan. umzug runs the whole plan in one `up`/`down` call, started here, as the tasks
 * are made (the first query is not held back while the task list is set up); each task ends when umzug's event says
 * its migration finished, or fails with the error that stopped the run there (exitOnError then stops the list).
 * Make the tasks only to run them at once.
 */
export function migrationTasks(
  migrator: Migrator,
  plan: PreparedMigration[],
  direction: Direction,
  result: MigrationRunResult,
): ListrTask[] {
  const waiting = new Map(plan.map((p) => [p.source.name, settleable<Finished>()]));
  migrator
    .run(direction, plan, {
      finished: (name, durationMs, executed) =>
        afterNextQuery(() => waiting.get(name)?.resolve({ durationMs, executed })),
    })
    .then(
      () =>
        afterNextQuery(() => {
          for (const [name, w] of waiting) w.reject(new Error(`umzug did not run ${name}.`));
        }),
      (err) =>
        afterNextQuery(() => {
          for (const w of waiting.values()) w.reject(err);
        }),
    );
  return plan.map(({ source: { name } }) => ({
    title: name,
    task: async (_, task) => {
      const { durationMs, executed } = await waiting.get(name)!.promise;
      if (!executed) {
        result.notRun.push(name);
        task.skip(`${name}: runs outside a transaction (no-transaction), so a dry run cannot execute it`);
        return;
      }
      result.done.push(name);
      const verb = direction === 'up' ? 'applied' : 'reverted';
      task.title = `${name} ${migrator.dryRun ? `would be ${verb}` : verb} (${Math.round(durationMs)} ms)`;
    },
  }));
}

/**
 * Hand a migration's outcome to its task on the next turn of the event loop rather than at once: by then umzug has
 * sent the next migration's query (all in microtasks after the reply), so ending the task and printing its line
 * overlap the server's work instead of delaying the next migration. Outcomes keep their order (setImmediate runs
 * callbacks first in, first out), so a failure never overtakes the success of the migration before it.
 */
function afterNextQuery(settle: () => void): void {
  setImmediate(settle);
}

/** A promise settled from outside; settling twice keeps the first outcome. Never an unhandled rejection. */
function settleable<T>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // a task after the failing one is never awaited
  return { promise, resolve, reject };
}
