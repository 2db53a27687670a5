import { join } from 'node:path';
import { deployPaths } from '../app/paths.js';
import { activateRelease } from '../app/releases.js';
import { freePort } from '../net/free-port.js';
import type { AppPackage } from '../packages/types.js';
import { firstErrorIn } from '../pm2/crash.js';
import { LaunchFailure } from '../pm2/failure.js';
import {
  candidateName,
  type Launch,
  launchCandidate,
  launchLogTail,
  provenStable,
  reloadOneByOne,
  removeCandidate,
  waitLaunched,
} from '../pm2/launch.js';
import type { Pm2Instance } from '../pm2/processes.js';
import type { TaskWrapper } from './step.js';
import type { DeployRun, StartRecord } from './types.js';

/** How long a candidate must stay healthy after its first good probe, unless the package sets `stabilityWindow`. */
export const DEFAULT_STABILITY_WINDOW_MS = 5_000;

/**
 * Does the package get a candidate (README, "Deploy")? Only one with a port (the candidate's traffic is the health
 * and smoke probes: a portless worker started twice would do its real work twice) and with a live instance to
 * protect: with none online, the release is started and gated directly, and a failure stops it.
 */
export function usesCandidate(pkg: AppPackage, running: Pm2Instance[]): boolean {
  return pkg.port !== undefined && running.some((p) => p.state === 'online');
}

/** Start the release as the package's candidate on a free loopback port (a candidate left by a killed run goes first). */
export async function startCandidate(run: DeployRun, pkg: AppPackage, id: string): Promise<Launch> {
  const { pm2, config } = run.deps;
  if (run.before?.instances.some((p) => p.name === candidateName(pkg.name))) await removeCandidate(pm2, config, pkg);
  const dir = join(deployPaths(config.root).releases(pkg.name), id);
  return launchCandidate(pm2, config, pkg, { id, dir }, await freePort());
}

/**
 * The candidate's gate: healthy within --health-timeout, its smoke paths answered, then healthy all through the
 * stability window. A proven candidate is deleted here; a failed one by the step's rollback (the failure is
 * reported first). Either way `current` and the live instances are as they were.
 */
export async function proveCandidate(
  run: DeployRun,
  pkg: AppPackage,
  candidate: Launch,
  task: TaskWrapper,
): Promise<void> {
  const { pm2, config } = run.deps;
  const window = pkg.stabilityWindow ?? DEFAULT_STABILITY_WINDOW_MS;
  task.output = `candidate of release ${candidate.release} on 127.0.0.1:${candidate.port}`;
  let problem = await waitLaunched(pm2, candidate, run.options.healthTimeoutMs, run.signal);
  if (!problem) {
    task.output = `candidate healthy; checking ${pkg.smoke?.length ?? 0} smoke path(s), then ${window} ms of stability`;
    problem = await provenStable(pm2, candidate, window, run.signal);
  }
  throwIfInterrupted(run);
  if (!problem) await removeCandidate(pm2, config, pkg);
  if (!problem) return;
  const tail = launchLogTail(candidate, config);
  const report = run.reports.get(pkg.name);
  if (report) report.logTail = tail;
  const message = `${pkg.name}: health gate failed: ${candidateProblem(problem, tail)}${livePortClash(pkg, tail)} (release ${candidate.release}, tried beside the live one; the live release was not touched).`;
  throw new LaunchFailure(pkg.name, message, tail, pm2.home, config, candidate.logs[1]);
}

/**
 * Put the proven release live: point `current` at it, then reload the live instances one at a time, each gated
 * (or start it when nothing runs). Returns the launch for the final gate and the problem of a failed instance.
 */
export async function promote(
  run: DeployRun,
  pkg: AppPackage,
  record: StartRecord,
  task: TaskWrapper,
): Promise<string | undefined> {
  const { pm2, config } = run.deps;
  throwIfInterrupted(run);
  record.live = true;
  activateRelease(config.root, pkg.name, record.id!);
  const running = (run.before?.instances ?? []).filter((p) => p.name === pkg.name);
  const result = await reloadOneByOne(pm2, config, pkg, record.id!, running, {
    timeoutMs: run.options.healthTimeoutMs,
    signal: run.signal,
    onCommand: (command) => {
      task.output = command;
    },
  });
  record.launch = result.launch;
  return result.problem ?? (await waitLaunched(pm2, result.launch, run.options.healthTimeoutMs, run.signal));
}

/** After SIGINT/SIGTERM: stop here with the interrupt as the error (README, "Deploy": an interrupt rolls back). */
export function throwIfInterrupted(run: DeployRun): void {
  if (run.signal?.aborted) throw run.signal.reason instanceof Error ? run.signal.reason : new Error('interrupted');
}

/**
 * The gate's problem in the words of a candidate: PM2's id of the candidate and its scratch port mean nothing to an
 * operator, the error that ended it does (its first error line, from the log lines shown with the failure).
 */
export function candidateProblem(problem: string, tail: string[]): string {
  const error = firstErrorIn(tail);
  const cause = error && !problem.includes(error) ? ` (${error})` : '';
  if (/^instance \d+ is (stopped|errored)/.test(problem)) return `the candidate exited${cause}`;
  if (/^instance \d+ crashed/.test(problem)) return `the candidate crashed${cause}`;
  const late = /^nothing listens on port \d+ after it was healthy$/.exec(problem);
  if (late) return `the candidate stopped listening after it was healthy${cause}`;
  return `${problem}${cause}`;
}

/**
 * A candidate that tried the live port (EADDRINUSE naming it in its log) ignores PORT: say so, as the log alone
 * reads like a port conflict to debug (README, "Deploy": the app must listen on `process.env.PORT`).
 */
function livePortClash(pkg: AppPackage, tail: string[]): string {
  const text = tail.join('\n');
  if (pkg.port === undefined || !text.includes('EADDRINUSE') || !new RegExp(`\\b${pkg.port}\\b`).test(text)) return '';
  return `; it tried to listen on port ${pkg.port}, the live one, instead of its scratch port: the app must listen on process.env.PORT`;
}
