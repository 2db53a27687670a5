import type { ListrTask } from 'listr2';
import { ExitCode, isOpsError, OpsError } from '../errors.js';
import { describeHolder, findPortHolders } from '../net/port-holders.js';
import type { AppPackage } from '../packages/types.js';
import { startCommand } from '../pm2/ecosystem.js';
import { isDaemonRunning } from '../pm2/home.js';
import { ownProcessPredicate } from '../pm2/own-process.js';
import { record } from './step.js';
import type { DeployRun } from './types.js';

/** Packages this deploy would start under PM2. */
export function startablePackages(run: DeployRun): AppPackage[] {
  return run.options.noStart ? [] : run.packages.filter((p) => startCommand(p));
}

/**
 * Before anything changes: PM2 must be startable, and each port must be free or held by the package's own
 * PM2 processes. Anything else holding a port stops the deploy here, naming the holder.
 */
export function preflightTasks(run: DeployRun): ListrTask[] {
  const startable = startablePackages(run);
  return [
    {
      title: 'preflight: PM2 and ports',
      skip: () => (!startable.length ? 'nothing to start' : false),
      task: async (_ctx, task) => {
        const started = performance.now();
        const { pm2 } = run.deps;
        try {
          if (isDaemonRunning(pm2.home)) run.before = await pm2.snapshot();
          else if (!run.options.dryRun) await verifyPm2(run);
          else task.output = 'PM2 is not running yet (deploy would start it)';
          for (const pkg of startable) {
            const own = await ownProcessPredicate(pm2, pkg.name, '/proc', run.before?.instances ?? []);
            const error = await portTaken(run, pkg, own, 'nothing was deployed');
            if (error) {
              record(run, pkg.name, 'start', 'failed', started, error.message);
              throw error;
            }
          }
        } catch (error) {
          if (!run.errors.includes(error as Error)) run.errors.push(error as Error);
          throw error;
        }
      },
    },
  ];
}

/**
 * The package's port held by anything but its own processes (`isOwn`), as the error that stops the run naming the
 * holders; undefined when free. `outcome` says what did not happen (`nothing was deployed`).
 */
export async function portTaken(
  run: DeployRun,
  pkg: AppPackage,
  isOwn: (pid: number) => boolean,
  outcome: string,
): Promise<OpsError | undefined> {
  if (pkg.port === undefined) return undefined;
  const holders = (await findPortHolders(pkg.port, { runner: run.deps.runner })) ?? [];
  const foreign = holders.filter((h) => h.pid === undefined || !isOwn(h.pid));
  if (!foreign.length) return undefined;
  return new OpsError(
    'PORT_TAKEN',
    `${pkg.name}: port ${pkg.port} is in use by ${foreign.map(describeHolder).join(' and ')}; ${outcome}.`,
    { hint: `Stop that process, or change packages.${pkg.name}.port in the config.`, exitCode: ExitCode.failed },
  );
}

/** PM2 must start before anything is installed: its failure says so, keeping what PM2 said and what to do. */
async function verifyPm2(run: DeployRun): Promise<void> {
  try {
    await run.deps.pm2.verifyStartable();
  } catch (error) {
    if (!isOpsError(error)) throw error;
    throw new OpsError(error.code, `${error.message.replace(/\.$/, '')}; nothing was deployed.`, {
      hint: error.hint,
      exitCode: error.exitCode,
      cause: error,
    });
  }
}
