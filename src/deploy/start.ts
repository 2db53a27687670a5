import { identityEnv } from '../app/env.js';
import { envChangesSince, readLive } from '../app/live.js';
import {
  activateRelease,
  currentRelease,
  prepareRelease,
  pruneReleases,
  releaseId,
  removeFailedRelease,
} from '../app/releases.js';
import type { AppPackage } from '../packages/types.js';
import { startCommand } from '../pm2/ecosystem.js';
import { targetInstances } from '../pm2/instances.js';
import { type Launch, launchRelease, removeCandidate, wantedInstances } from '../pm2/launch.js';
import type { Pm2Instance } from '../pm2/processes.js';
import { startCandidate, throwIfInterrupted, usesCandidate } from './candidate.js';
import type { StepSpec, TaskWrapper } from './step.js';
import type { Decision, DeployRun, StartRecord } from './types.js';

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
      const root = run.deps.config.root;
      const id = releaseId(pkg);
      const current = currentRelease(root, pkg.name);
      const running = instancesBefore(run, pkg);
      record.id = id;
      record.previous = current;
      record.identity = identityEnv(run.deps.config, pkg);
      const target = targetInstances(root, pkg);
      if (!running.length)
        return { run: true, what: `pm2 start ${pkg.name} (release ${id}, ${wantedInstances(pkg)} instance(s))` };
      record.changes = run.options.force ? ['--force'] : changesOf(run, pkg, running, id, record.identity, target);
      if (!record.changes.length) {
        record.unchanged = true;
        return { run: false, reason: `release ${id} already running (${running.length} instance(s))` };
      }
      const first = usesCandidate(pkg, running) ? ', after a candidate on a scratch port proves it' : '';
      return { run: true, what: `pm2 reload ${pkg.name} (${record.changes.join(', ')})${first}` };
    },
    async run(task) {
      try {
        return await startRelease(run, pkg, record, task);
      } catch (error) {
        // a release that never went live takes no kept slot (README, "`opsctl deploy`")
        removeFailedRelease(run.deps.config.root, pkg.name, record.id!);
        throw error;
      }
    },
  };
}

async function startRelease(run: DeployRun, pkg: AppPackage, record: StartRecord, task: TaskWrapper): Promise<string> {
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
    const why = record.changes?.length ? `${record.changes.join(', ')}: ` : '';
    return `${why}candidate of release ${id} started on 127.0.0.1:${record.candidate.port}`;
  }
  // no port, or nothing live: started or reloaded, then gated (README, "Deploy"); the preflight's snapshot is current
  record.live = true;
  record.launch = await runRelease(run, pkg, id, task, instancesBefore(run, pkg));
  const report = run.reports.get(pkg.name);
  if (report) report.release = id;
  return `release ${id} on PM2${record.changes?.length ? ` (${record.changes.join(', ')})` : ''}`;
}

/** Point `current` at a release and start or reload it, scaled to the configured count. */
export function runRelease(
  run: DeployRun,
  pkg: AppPackage,
  id: string,
  task: TaskWrapper,
  running?: Pm2Instance[],
  env?: Record<string, string>,
): Promise<Launch> {
  activateRelease(run.deps.config.root, pkg.name, id);
  return launchRelease(run.deps.pm2, run.deps.config, pkg, id, {
    running,
    ...(env ? { env } : {}),
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

/**
 * What makes the running package differ from this deploy's (README, "Deploy"): its code (the release id), each
 * environment key (by fingerprint, never by value), its instance count, or instances not online. Empty: nothing.
 */
function changesOf(
  run: DeployRun,
  pkg: AppPackage,
  running: Pm2Instance[],
  id: string,
  identity: Record<string, string>,
  target: number,
): string[] {
  const live = readLive(run.deps.config.root, pkg.name);
  const changes: string[] = [];
  const from = live?.release ?? running.find((p) => p.release)?.release ?? '?';
  if (from !== id || running.some((p) => p.release !== id)) changes.push(`code changed (release ${from} → ${id})`);
  changes.push(
    ...(live
      ? envChangesSince(run.deps.config.root, live, identity)
      : ['no environment recorded for the running release']),
  );
  if (running.length !== target) changes.push(`instances ${running.length} → ${target}`);
  const down = running.filter((p) => p.state !== 'online').length;
  if (down) changes.push(`${down} instance(s) not online`);
  return changes;
}
