import type { ListrTask } from 'listr2';
import type { Runner } from '../process/runner.js';
import type { PlannedChange, UpdateTarget } from './update-plan.js';
import { backupDirFor, type PackageUpdate, updatePackage } from './update-run.js';

export interface UpdateTasksOptions {
  runner: Runner;
  root: string;
  test: boolean;
  /** --latest: the planned changes with their new ranges. */
  latest?: PlannedChange[];
}

/** One task per package, one package at a time (npm installs are heavy); results land in `results`. */
export function updateTasks(
  targets: UpdateTarget[],
  options: UpdateTasksOptions,
  results: PackageUpdate[],
): ListrTask[] {
  return targets.map((target) => ({
    title: `${target.pkg.name}: ${options.latest ? 'npm install (latest)' : 'npm update'}${options.test ? ', npm test' : ''}`,
    task: async (_ctx, task) => {
      const base = task.title;
      const result = await updatePackage(target, {
        runner: options.runner,
        latest: options.latest,
        test: options.test,
        backupDir: backupDirFor(options.root, target.pkg.name),
        onLine: (line) => {
          task.output = line;
        },
        onStep: (step) => {
          task.title = `${base} (${step})`;
        },
      });
      results.push(result);
      task.title = `${target.pkg.name}: ${describe(result)}`;
      if (result.status === 'restored') throw new Error(`${target.pkg.name}: ${result.reason}; restored`);
    },
  }));
}

function describe(r: PackageUpdate): string {
  if (r.status === 'unchanged') return 'already up to date';
  const n = `${r.changes.length} dependenc${r.changes.length === 1 ? 'y' : 'ies'}`;
  return r.status === 'restored' ? `${r.reason}: restored (${n} rolled back)` : `${n} updated`;
}
