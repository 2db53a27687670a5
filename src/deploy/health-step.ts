import { rmSync } from 'node:fs';
import { probeSmoke } from '../app/health.js';
import { clearedEnv, markRolledBack } from '../app/live.js';
import { deployPaths } from '../app/paths.js';
import { currentRelease, removeFailedRelease } from '../app/releases.js';
import type { AppPackage } from '../packages/types.js';
import { LaunchFailure } from '../pm2/failure.js';
import {
  candidateName,
  launchLogTail,
  packageLogTail,
  removeCandidate,
  waitLaunched,
  waitRunning,
} from '../pm2/launch.js';
import { promote, proveCandidate, throwIfInterrupted } from './candidate.js';
import { notStartedReason, runRelease } from './start.js';
import type { StepSpec, TaskWrapper } from './step.js';
import type { Decision, DeployRun, StartRecord } from './types.js';

/** `health`: wait until what the start step launched is healthy; on failure, put the previous release back. */
export function healthStep(run: DeployRun, pkg: AppPackage, record: StartRecord): StepSpec {
  return {
    step: 'health',
    pkg: pkg.name,
    decide(): Decision {
      const reason = notStartedReason(run, pkg);
      return reason ? { run: false, reason } : { run: true, what: `wait until ${healthMeaning(pkg)}` };
    },
    // after an interrupt it still runs: it deletes a candidate the start step left (README, "Deploy")
    runsWhenInterrupted: true,
    async run(task) {
      const id = record.id ?? currentRelease(run.deps.config.root, pkg.name) ?? '';
      const candidate = record.candidate;
      if (candidate) {
        await proveCandidate(run, pkg, candidate, task);
        record.candidate = undefined; // proven, and deleted: the rollback deletes a failed one
        const problem = await promote(run, pkg, record, task);
        throwIfInterrupted(run);
        if (!problem) {
          const report = run.reports.get(pkg.name);
          if (report) report.release = id;
          return `healthy (release ${id}: candidate proven, then live)`;
        }
        return failed(run, pkg, record, problem);
      }
      // a candidate left by a killed deploy goes even when this one changes nothing (README, "`opsctl status`")
      if (run.before?.instances.some((p) => p.name === candidateName(pkg.name)))
        await removeCandidate(run.deps.pm2, run.deps.config, pkg);
      throwIfInterrupted(run);
      const problem = await gate(run, pkg, record);
      throwIfInterrupted(run);
      if (!problem) return `healthy (release ${id})`;
      return failed(run, pkg, record, problem);
    },
    rollback: (task) => rollBack(run, pkg, record, task),
  };
}

/** A failed gate of the live instances: their last log lines, and the error (the rollback runs next). */
function failed(run: DeployRun, pkg: AppPackage, record: StartRecord, problem: string): never {
  const { config, pm2 } = run.deps;
  const tail = record.launch ? launchLogTail(record.launch, config) : packageLogTail(pm2, pkg, config);
  const report = run.reports.get(pkg.name);
  if (report) report.logTail = tail;
  throw new LaunchFailure(pkg.name, `${pkg.name}: health gate failed: ${problem}.`, tail, pm2.home, config);
}

/** What "healthy" means for the package, for the plan. */
function healthMeaning(pkg: AppPackage): string {
  if (pkg.port === undefined) return 'instances stay online';
  return pkg.health && pkg.health !== 'tcp' ? `GET :${pkg.port}${pkg.health} answers 2xx` : `port ${pkg.port} listens`;
}

/**
 * A release this deploy launched without a candidate must prove it does not crash and answer its smoke paths; one
 * already running needs one good probe.
 */
async function gate(run: DeployRun, pkg: AppPackage, record: StartRecord): Promise<string | undefined> {
  const timeoutMs = run.options.healthTimeoutMs;
  if (!record.launch || record.unchanged) return waitRunning(pkg, timeoutMs);
  const problem = await waitLaunched(run.deps.pm2, record.launch, timeoutMs, run.signal);
  return problem ?? (await probeSmoke({ port: pkg.port, health: pkg.health }, pkg.smoke ?? []));
}

/** After a failed health gate: put the previous release back, or stop a first release rather than let it crash-loop. */
async function rollBack(run: DeployRun, pkg: AppPackage, record: StartRecord, task: TaskWrapper): Promise<void> {
  await putBack(run, pkg, record, task);
  if (record.id && !record.unchanged && !run.options.dryRun)
    removeFailedRelease(run.deps.config.root, pkg.name, record.id);
}

async function putBack(run: DeployRun, pkg: AppPackage, record: StartRecord, task: TaskWrapper): Promise<void> {
  const what = run.signal?.aborted ? 'interrupted' : 'failed';
  if (record.candidate) await removeCandidate(run.deps.pm2, run.deps.config, pkg); // failed, or interrupted
  if (!record.live && !record.unchanged) {
    task.title = `health: ${what}; the candidate was deleted, and the live release and \`current\` were not touched`;
    return;
  }
  if (record.unchanged) {
    task.title = `health: failed; ${pkg.name} was not changed by this deploy, so there is nothing to roll back`;
    return;
  }
  const previous = record.previous;
  // same code, another environment: the release goes back with the environment PM2 ran it with before this deploy
  const heldEnv = previous === record.id ? heldEnvOf(run, pkg, record) : undefined;
  if (!previous || (previous === record.id && !heldEnv) || run.options.dryRun) {
    task.title = `health: failed; no previous release of ${pkg.name}, stopping it`;
    await run.deps.pm2.action('delete', [pkg.name]).catch(() => {});
    rmSync(deployPaths(run.deps.config.root).current(pkg.name), { force: true });
    return;
  }
  task.title = `health: failed; putting release ${previous} back`;
  record.launch = await runRelease(run, pkg, previous, task, undefined, heldEnv);
  const problem = await waitLaunched(run.deps.pm2, record.launch, run.options.healthTimeoutMs);
  if (record.id) markRolledBack(run.deps.config.root, pkg.name, previous, { from: record.id, why: 'failed' });
  const report = run.reports.get(pkg.name);
  if (report) {
    report.rolledBackTo = previous;
    report.release = previous;
  }
  task.title = problem
    ? `health: failed; release ${previous} was put back but is not healthy either: ${problem}`
    : `health: failed; release ${previous} was put back and is healthy`;
}

/**
 * The values PM2 held before this deploy (its snapshot) for each key this deploy set or cleared, a key it did not
 * hold cleared; undefined when nothing ran before.
 */
function heldEnvOf(run: DeployRun, pkg: AppPackage, record: StartRecord): Record<string, string> | undefined {
  const held = run.before?.envOf(pkg.name);
  if (!held || !record.identity) return undefined;
  const keys = [
    ...Object.keys(record.identity),
    ...Object.keys(clearedEnv(run.deps.config.root, pkg.name, record.identity)),
  ];
  return Object.fromEntries(keys.map((k) => [k, held[k] ?? '']));
}
