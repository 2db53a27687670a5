import type { ListrTask } from 'listr2';
import { describe, expect, it } from 'vitest';
import type { MigrationProgress, Migrator } from '../../src/db/migrate/engine.js';
import type { PreparedMigration } from '../../src/db/migrate/resolve.js';
import { type MigrationRunResult, migrationTasks } from '../../src/db/migrate/tasks.js';
import { runTasks } from '../../src/tasks/run.js';

const prepared = (name: string): PreparedMigration => ({
  source: { name, version: name.split('_')[0]!, kind: 'sql', path: `/m/${name}.sql`, checksum: `sum-${name}` },
  transaction: true,
  up: async () => {},
});

/** A migrator whose run is scripted: `script` plays umzug, reporting progress as the real engine does. */
function fakeMigrator(script: (progress: MigrationProgress) => Promise<string[]>): Migrator {
  return {
    folder: { dir: '/m', label: 'migrations', configured: false, others: [] },
    sources: [],
    dryRun: false,
    status: () => ({ executed: [], pending: [], drifted: [], missing: [] }),
    run: (_direction, _plan, progress = {}) => script(progress),
    schemaObjects: async () => new Set(),
    record: async () => {},
    close: async () => {},
  };
}

describe('migrationTasks', () => {
  it('starts the run when the tasks are made, before the task list is set up and run', async () => {
    let started = 0;
    const migrator = fakeMigrator(async (progress) => {
      started++;
      progress.finished?.('0001_a', 1, true);
      return ['0001_a'];
    });
    const result: MigrationRunResult = { done: [], notRun: [] };
    const tasks = migrationTasks(migrator, [prepared('0001_a')], 'up', result);
    expect(started).toBe(1);
    expect(await runTasks(tasks, {}, { renderer: 'silent' })).toEqual([]);
    expect(started).toBe(1);
    expect(result.done).toEqual(['0001_a']);
  });

  it('ends a migration’s task only after the run went on to the next migration (its query is sent first)', async () => {
    const events: string[] = [];
    const migrator = fakeMigrator(async (progress) => {
      progress.finished?.('0001_a', 1, true);
      // what umzug does next in the same turn: a chain of awaits (its loop, its events, the step) up to the next query
      for (let hop = 0; hop < 50; hop++) await Promise.resolve();
      events.push('0002_b sent');
      progress.finished?.('0002_b', 1, true);
      return ['0001_a', '0002_b'];
    });
    const plan = [prepared('0001_a'), prepared('0002_b')];
    const result: MigrationRunResult = { done: [], notRun: [] };
    const tasks: ListrTask[] = migrationTasks(migrator, plan, 'up', result).map((t) => ({
      ...t,
      task: async (ctx, task) => {
        await t.task(ctx, task);
        events.push(`${t.title} done`);
      },
    }));
    const errors = await runTasks(tasks, {}, { renderer: 'silent' });
    expect(errors).toEqual([]);
    expect(result.done).toEqual(['0001_a', '0002_b']);
    expect(events).toEqual(['0002_b sent', '0001_a done', '0002_b done']);
  });

  it('a failure right after a success never overtakes it: the earlier migration is reported applied', async () => {
    const boom = new Error('0002_b failed');
    const migrator = fakeMigrator(async (progress) => {
      progress.finished?.('0001_a', 1, true);
      throw boom;
    });
    const plan = [prepared('0001_a'), prepared('0002_b'), prepared('0003_c')];
    const result: MigrationRunResult = { done: [], notRun: [] };
    const errors = await runTasks(migrationTasks(migrator, plan, 'up', result), {}, { renderer: 'silent' });
    expect(result.done).toEqual(['0001_a']);
    expect(errors).toEqual([boom]);
  });
});
