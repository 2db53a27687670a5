import type { ListrTask, ListrTaskWrapper } from 'listr2';
import { errorMessage } from '../errors.js';
import type { Gate } from '../graph/package-graph.js';
import { logTailOf } from '../pm2/failure.js';
import type { Decision, DeployRun, StepName } from './types.js';

// biome-ignore lint/suspicious/noExplicitAny: listr2's wrapper generics are not useful to spell out here
export type TaskWrapper = ListrTaskWrapper<any, any, any>;

export interface StepSpec {
  step: StepName;
  pkg: string;
  /** What would happen and why; sync or async, no side effects. */
  decide(): Decision | Promise<Decision>;
  /** Do it. May return a note for the title. */
  run(task: TaskWrapper): Promise<string | undefined>;
  /** Run even after SIGINT/SIGTERM (it checks `run.signal` itself, to clean up); other steps are then skipped. */
  runsWhenInterrupted?: boolean;
  /** Undo after a failure (listr rollback). */
  rollback?(task: TaskWrapper, error: Error): Promise<void>;
}

/** Record a step's outcome in the run's report. */
export function record(
  run: DeployRun,
  pkg: string,
  step: StepName,
  status: 'done' | 'skipped' | 'failed',
  started: number,
  reason?: string,
  logTail?: string[],
): void {
  const report = run.reports.get(pkg);
  if (!report) return;
  report.steps.push({
    step,
    status,
    ...(reason ? { reason } : {}),
    durationMs: Math.round(performance.now() - started),
    ...(logTail?.length ? { logTail } : {}),
  });
}

/**
 * One deploy step as a listr task: decide, then skip (saying why, or under --dry-run what would have run),
 * or run and record. Failures are recorded and rethrown so listr marks the task.
 */
export function stepTask(run: DeployRun, spec: StepSpec, gate?: { gate: Gate; last: boolean }): ListrTask {
  return {
    title: spec.step,
    task: async (_ctx, task) => {
      try {
        await runStep(run, spec, task);
        if (gate?.last) gate.gate.resolve();
      } catch (error) {
        gate?.gate.reject(error as Error);
        throw error;
      }
    },
    ...(spec.rollback
      ? {
          rollback: async (_ctx: unknown, task: TaskWrapper) =>
            spec.rollback!(task, run.errors.at(-1) ?? new Error('failed')),
        }
      : {}),
  };
}

async function runStep(run: DeployRun, spec: StepSpec, task: TaskWrapper): Promise<void> {
  const started = performance.now();
  if (run.signal?.aborted && !spec.runsWhenInterrupted) {
    record(run, spec.pkg, spec.step, 'skipped', started, 'interrupted');
    task.skip(`${spec.step}: skipped (interrupted)`);
    return;
  }
  let decision: Decision;
  try {
    decision = await spec.decide();
  } catch (error) {
    record(run, spec.pkg, spec.step, 'failed', started, errorMessage(error), logTailOf(error));
    run.errors.push(error as Error);
    throw error;
  }
  if (!decision.run) {
    record(run, spec.pkg, spec.step, 'skipped', started, decision.reason);
    task.skip(`${spec.step}: skipped (${decision.reason})`);
    return;
  }
  if (run.options.dryRun) {
    const reason = `dry run: would ${decision.what}`;
    record(run, spec.pkg, spec.step, 'skipped', started, reason);
    task.skip(`${spec.step}: ${reason}`);
    return;
  }
  task.title = `${spec.step}: ${decision.what}`;
  try {
    const note = await spec.run(task);
    record(run, spec.pkg, spec.step, 'done', started, note || undefined);
    task.title = `${spec.step}: ${note || decision.what} (${Math.round(performance.now() - started)} ms)`;
  } catch (error) {
    record(run, spec.pkg, spec.step, 'failed', started, errorMessage(error), logTailOf(error));
    run.errors.push(error as Error);
    throw error;
  }
}
