import { doctorTasks } from '../../src/checks/doctor-tasks.js';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../../src/checks/ids.js';
import { doctorChecks, selectChecks } from '../../src/checks/index.js';
import type { CheckReport, CheckStatus } from '../../src/checks/types.js';
import { ExitCode } from '../../src/errors.js';
import { runTasks } from '../../src/tasks/run.js';
import { checkJson, printReports } from '../shared/check-report.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err } from '../shared/output.js';

export interface DoctorOptions extends GlobalOptions {
  timeout?: number;
  only?: string[];
  skip?: string[];
  /** Milliseconds: log entries older than this are ignored. */
  since?: number;
}

/** `opsctl doctor [--only ids...] [--skip ids...] [--timeout ms] [--since duration]` */
export function doctor(cmd: Invocation<DoctorOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const opts = cli.opts;
    const timeoutMs = opts.timeout ?? config.doctor.timeout ?? DEFAULT_CHECK_TIMEOUT_MS;
    const checks = selectChecks(doctorChecks(config), opts.only, [...(config.doctor.skip ?? []), ...(opts.skip ?? [])]);
    const reports: CheckReport[] = [];
    const since = opts.since === undefined ? undefined : new Date(Date.now() - opts.since);
    const ctx = { config, runner: cli.runner, timeoutMs, now: () => new Date(), since };
    await runTasks(
      doctorTasks(checks, ctx, reports),
      {},
      {
        renderer: cli.renderer,
        concurrent: true,
        exitOnError: false,
        transient: true,
      },
    );

    const failed = reports.filter((r) => r.status === 'fail').length;
    const exitCode = failed ? ExitCode.findings : ExitCode.ok;
    if (cli.json) return cli.finish(exitCode, { checks: reports.map(checkJson) });
    printReports(reports);
    const count = (s: CheckStatus) => reports.filter((r) => r.status === s).length;
    err(`${count('pass')} passed, ${count('warn')} warned, ${failed} failed, ${count('skip')} skipped`);
    return exitCode;
  });
}
