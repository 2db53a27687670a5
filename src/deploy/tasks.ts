import type { ListrTask } from 'listr2';
import { markLive } from '../app/live.js';
import { createGates, orderPackages, waitForDependencies } from '../graph/package-graph.js';
import type { AppPackage } from '../packages/types.js';
import { healthStep } from './health-step.js';
import { migrateStep, migrationsOwner } from './migrate.js';
import { preflightTasks } from './preflight.js';
import { buildStep, installStep } from './prepare.js';
import { startStep } from './start.js';
import { type StepSpec, stepTask } from './step.js';
import type { DeployDeps, DeployOptions, DeployRun, PackageReport, StartRecord } from './types.js';

/** A deploy run over `packages` (any order: they are put in dependency order here; a cycle is a config error). */
export function createDeployRun(
  deps: DeployDeps,
  packages: AppPackage[],
  options: DeployOptions,
  signal?: AbortSignal,
): DeployRun {
  const ordered = orderPackages(packages);
  return {
    deps,
    ...(signal ? { signal } : {}),
    options,
    packages: ordered,
    reports: new Map(ordered.map((p) => [p.name, { name: p.name, steps: [] } satisfies PackageReport])),
    errors: [],
    prepared: createGates(ordered),
    started: createGates(ordered),
  };
}

/**
 * The deploy as one task list: preflight; install and build per package (dependencies first, independent packages
 * concurrently); migrate once; start and health-gate per package in the same order. A failure stops the phases
 * after it: a failed build restarts nothing, a failed migration starts nothing. `parts.migrate: false` leaves the
 * migrate step out (migrateTasks runs it).
 */
export function deployTasks(run: DeployRun, parts: { migrate?: boolean } = {}): ListrTask[] {
  const concurrent = run.options.concurrency ?? true;
  const stopped = stoppedBy(run);
  return [
    ...preflightTasks(run),
    {
      title: 'install and build',
      skip: stopped,
      task: (_ctx, task) =>
        task.newListr(
          run.packages.map((pkg) => packageTask(run, pkg, run.prepared, [installStep(run, pkg), buildStep(run, pkg)])),
          { concurrent, exitOnError: false },
        ),
    },
    ...(parts.migrate === false ? [] : migrateTasks(run)),
    {
      title: 'start and health',
      // with nothing to start, each package still reports start and health as skipped, saying why
      skip: stopped,
      task: (_ctx, task) =>
        task.newListr(
          run.packages.map((pkg) => packageTask(run, pkg, run.started, startSteps(run, pkg))),
          { concurrent, exitOnError: false },
        ),
    },
  ];
}

/** A skip condition: the run was interrupted or an earlier step failed. */
const stoppedBy = (run: DeployRun) => () =>
  run.signal?.aborted ? 'interrupted' : run.errors.length ? 'an earlier step failed' : false;

/**
 * The migrate step alone (none when no package owns migrations): `deployTasks(run, { migrate: false })` leaves it
 * out so a caller can run it later (deploy --target: once every host has the release, before any host switches).
 */
export function migrateTasks(run: DeployRun): ListrTask[] {
  const stopped = stoppedBy(run);
  const owner = migrationsOwner(run);
  return owner ? [{ ...stepTask(run, migrateStep(run, owner)), skip: stopped }] : [];
}

/** A package's `start` and `health` steps: health gates (and rolls back) what start launched. */
function startSteps(run: DeployRun, pkg: AppPackage): StepSpec[] {
  const record: StartRecord = {};
  const health = healthStep(run, pkg, record);
  return [
    startStep(run, pkg, record),
    { ...health, run: (task) => health.run(task).then(recordLive(run, pkg, record)) },
  ];
}

/** Once a launched release passed its health gate: remember what PM2 runs (README, "Deploy": same inputs never reload). */
function recordLive(run: DeployRun, pkg: AppPackage, record: StartRecord) {
  return (note: string | undefined) => {
    if (record.id && record.identity && !record.unchanged)
      markLive(run.deps.config.root, pkg.name, record.id, record.identity, run.options.provenance);
    return note;
  };
}

/** A package's steps as a sub-list that first waits for its dependencies' same phase. */
function packageTask(run: DeployRun, pkg: AppPackage, gates: DeployRun['prepared'], steps: StepSpec[]): ListrTask {
  const gate = gates.get(pkg.name)!;
  return {
    title: pkg.name,
    task: async (_ctx, task) => {
      const failed = await waitForDependencies(pkg, gates);
      if (failed) {
        gate.reject(new Error(`${failed} failed`));
        task.skip(`${pkg.name}: skipped (its dependency ${failed} failed)`);
        return;
      }
      return task.newListr(
        steps.map((spec, i) => stepTask(run, spec, { gate, last: i === steps.length - 1 })),
        { concurrent: false, exitOnError: true },
      );
    },
  };
}

/** The JSON/table shape: packages in dependency order with their steps. */
export function deployReport(run: DeployRun): PackageReport[] {
  return [...run.reports.values()];
}
