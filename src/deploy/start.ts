import { packageEnv } from '../app/env.js';
import { activateRelease, currentRelease, prepareRelease, pruneReleases, releaseId } from '../app/releases.js';
import type { AppPackage } from '../packages/types.js';
import { startCommand } from '../pm2/ecosystem.js';
import { type Launch, launchRelease, removeCandidate, wantedInstances } from '../pm2/launch.js';
import type { Pm2Instance } from '../pm2/processes.js';
import { startCandidate, throwIfInterrupted, usesCandidate } from './candidate.js';
import type { StepSpec, TaskWrapper } from './step.js';
import type { Decision, DeployRun, StartRecord } from './types.js';

const APP_ENV_KEYS = ['PORT', 'DATABASE_URL', 'REDIS_URL'];

/** Why a package is not started (`--no-start`, a library), or undefined. */
export function notStartedReason(run: DeployRun, pkg: AppPackage): string | undefined {
  if (run.options.noStart) return '--no-start';
  if (!startCommand(pkg)) return 'no start script (a library: installed and built only)';
  return undefined;
}

/** `start`: copy the package into its release folder and run it under PM2 (reload when online). */
export function startStep(run: DeployRun, pkg: AppPackage, record: StartRecord): StepSpec {
  return {
    step: 'start',
    pkg: pkg.name,
    async decide(): Promise<Decision> {
      const reason = notStartedReason(run, pkg);
      if (reason) return { run: false, reason };
      const id = releaseId(pkg);
      const current = currentRelease(run.deps.config.root, pkg.name);
      const running = instancesBefore(run, pkg);
      record.id = id;
      record.previous = current;
      if (!run.options.force && current === id && isUpToDate(run, pkg, running, id)) {
        record.unchanged = true;
        return { run: false, reason: `release ${id} already running (${running.length} instance(s))` };
      }
      const then = usesCandidate(pkg, running) ? 'a candidate on a scratch port, then ' : '';
      return running.length
        ? { run: true, what: `${then}pm2 reload ${pkg.name} (release ${current ?? '?'} → ${id})` }
        : { run: true, what: `${then}pm2 start ${pkg.name} (release ${id}, ${wantedInstances(pkg)} instance(s))` };
    },
    async run(task) {
      const id = record.id!;
      await prepareRelease(run.deps.config.root, pkg, id);
      pruneReleases(run.deps.config.root, pkg.name, [id, record.previous ?? id]);
      throwIfInterrupted(run);
      if (usesCandidate(pkg, instancesBefore(run, pkg))) {
        try {
          record.candidate = await startCandidate(run, pkg, id);
        } catch (error) {
          await removeCandidate(run.deps.pm2, run.deps.config, pkg);
          throw error;
        }
        return `candidate of release ${id} started on 127.0.0.1:${record.candidate.port}`;
      }
      // no port, or nothing live: started or reloaded, then gated (README, "Deploy"); the preflight's snapshot is current
      record.live = true;
      record.launch = await runRelease(run, pkg, id, task, instancesBefore(run, pkg));
      const report = run.reports.get(pkg.name);
      if (report) report.release = id;
      return `release ${id} on PM2`;
    },
  };
}

/** Point `current` at a release and start or reload it, scaled to the configured count. */
export function runRelease(
  run: DeployRun,
  pkg: AppPackage,
  id: string,
  task: TaskWrapper,
  running?: Pm2Instance[],
): Promise<Launch> {
  activateRelease(run.deps.config.root, pkg.name, id);
  return launchRelease(run.deps.pm2, run.deps.config, pkg, id, {
    running,
    scale: true,
    onCommand: (command) => {
      task.output = command;
    },
  });
}

/** The package's instances in the preflight's snapshot of PM2 (none when PM2 was not running). */
function instancesBefore(run: DeployRun, pkg: AppPackage): Pm2Instance[] {
  return (run.before?.instances ?? []).filter((p) => p.name === pkg.name);
}

/** Already running this release with the wanted instance count and the same app environment? */
function isUpToDate(run: DeployRun, pkg: AppPackage, running: Pm2Instance[], id: string): boolean {
  if (running.length !== wantedInstances(pkg) || running.some((p) => p.state !== 'online' || p.release !== id))
    return false;
  const held = run.before?.envOf(pkg.name);
  const desired = packageEnv(run.deps.config, pkg);
  const keys = [...APP_ENV_KEYS, ...Object.keys(pkg.env)];
  return keys.every((k) => (held?.[k] ?? undefined) === desired[k]);
}
