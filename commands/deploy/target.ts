import chalk from 'chalk';
import type { Provenance } from '../../src/app/provenance.js';
import { readTarget } from '../../src/config/target.js';
import { closeFleetRun, createFleetRun, fleetTasks } from '../../src/deploy/target/tasks.js';
import type { FleetRun } from '../../src/deploy/target/types.js';
import { ExitCode } from '../../src/errors.js';
import { hostGlobals } from '../../src/remote/host-files.js';
import { runTasks } from '../../src/tasks/run.js';
import { holdAppLock } from '../shared/app-lock.js';
import type { Cli } from '../shared/context.js';
import { err, errorJson, exitCodeOf, out, printError, table } from '../shared/output.js';
import { appPm2 } from '../shared/pm2-context.js';
import { type DeployFlags, deployOptions } from './flags.js';

/** After Ctrl-C: the host being switched finishes, then every switched host goes back through its health gate. */
const ROLLBACK_GRACE_MS = 10 * 60_000;

/** `opsctl deploy --target <name>`: build here once, roll over the target's hosts (README, "Several hosts"). */
export async function deployTarget(
  cli: Cli<DeployFlags & { target: string }>,
  packages: Parameters<typeof createFleetRun>[2],
  provenance: Provenance,
) {
  const config = cli.config();
  const flags = cli.opts;
  const target = readTarget(config, flags.target);
  const globals = hostGlobals(config);
  // the app's lock before the run's ssh folder and temp archives exist: a busy lock leaves nothing behind
  const release = flags.dryRun ? () => {} : holdAppLock(cli, config.root);
  let run: FleetRun;
  try {
    const signal = cli.deferSignals(ROLLBACK_GRACE_MS);
    run = createFleetRun(
      { config, runner: cli.runner, pm2: appPm2(cli, config) },
      target,
      packages,
      { ...deployOptions(flags), provenance, hostGlobals: globals },
      signal,
    );
  } catch (error) {
    release();
    throw error;
  }
  try {
    await runTasks(fleetTasks(run), {}, { renderer: cli.renderer, exitOnError: false });
  } finally {
    release();
    await closeFleetRun(run);
  }
  return finish(cli, run);
}

const STATUS = { done: chalk.green('done'), skipped: chalk.dim('skipped'), failed: chalk.red('failed') };

function finish(cli: Cli, run: FleetRun): number {
  const error = run.errors[0] ?? run.build.errors[0];
  const exitCode = error ? exitCodeOf(error) : ExitCode.ok;
  const hosts = run.hosts.map((h) => ({ ...h.report, ok: !error && h.report.ok }));
  if (!cli.json) {
    const rows = hosts.flatMap((h) =>
      h.steps.map((s, i) => [i ? '' : h.host, s.step, STATUS[s.status], `${s.durationMs} ms`, s.reason ?? '']),
    );
    if (rows.length) out(table(rows, ['host', 'step', 'status', 'time', 'detail']));
    for (const h of hosts.filter((x) => x.rolledBack)) err(`↺ ${h.host}: back on app ${h.release ?? 'nothing'}.`);
    if (error) printError(error, cli.debug);
    // the load balancer's problem too, when a host's was printed first
    if (run.lbError && run.lbError !== error) printError(run.lbError, cli.debug);
  }
  return cli.finish(exitCode, {
    dryRun: Boolean(run.options.dryRun),
    target: run.target.name,
    ...(run.app ? { release: run.app.sha256.slice(0, 16) } : {}),
    local: { packages: [...run.build.reports.values()] },
    hosts,
    ...(run.lb
      ? { loadBalancer: { ok: !run.lbError, ...(run.lbError ? { error: errorJson(run.lbError) } : {}) } }
      : {}),
    ...(error ? { error: errorJson(error) } : {}),
  });
}
