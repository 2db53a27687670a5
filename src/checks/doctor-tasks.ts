import type { ListrTask } from 'listr2';
import { runCheck } from './run-check.js';
import type { Check, CheckContext, CheckReport } from './types.js';

/**
 * One task per check, all concurrent. Reports land in `reports` in the checks' order, whatever order they finish in.
 * A failing check fails its task (✖) without stopping the others.
 */
export function doctorTasks(checks: Check[], ctx: Omit<CheckContext, 'signal'>, reports: CheckReport[]): ListrTask[] {
  return checks.map((check, index) => ({
    title: check.id,
    task: async (_, task) => {
      const report = await runCheck(check, ctx);
      reports[index] = report;
      const line = `${check.id}: ${report.message}`;
      if (report.status === 'fail') throw new Error(line);
      if (report.status === 'skip') return task.skip(line);
      task.title = report.status === 'warn' ? `⚠ ${line}` : line;
    },
  }));
}
