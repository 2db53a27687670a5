import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { OpsError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import { desiredInstances, startCommand, writeEcosystem } from '../pm2/ecosystem.js';
import { logOffsets, pm2LogFiles, readLogTail } from '../pm2/logs.js';
import type { Pm2Instance } from '../pm2/processes.js';
import { importFailureIn } from './crash.js';
import { packageEnv } from './env.js';
import { waitHealthy } from './health.js';
import { deployPaths } from './paths.js';
import { activateRelease, currentRelease, prepareRelease, pruneReleases, releaseId } from './releases.js';
import type { StepSpec, TaskWrapper } from './step.js';
import type { Decision, DeployRun } from './types.js';

const LOG_TAIL_LINES = 20;
const CRASH_SCAN_LINES = 400; // the new release's log lines searched for a failed import
/** Without a port, "healthy" means the instances stay online for about 1.5 s of 100 ms probes. */
const PORTLESS_STABLE_PROBES = 15;
const APP_ENV_KEYS = ['PORT', 'DATABASE_URL', 'REDIS_URL'];

/** What the start step learned, for the health step and the rollback. */
interface Live {
  id?: string;
  previous?: string;
  baseline: Map<number, number>;
  /** The instances were started fresh (not reloaded): their restart counts began at 0. */
  fresh?: boolean;
  offsets: number[];
  /** Start was skipped: the release was already running, so one good probe is enough. */
  unchanged?: boolean;
}

/** The `start` and `health` steps of one package, sharing what start did so health can roll it back. */
export function startSteps(run: DeployRun, pkg: AppPackage): [StepSpec, StepSpec] {
  const { pm2, config } = run.deps;
  const paths = deployPaths(config.root);
  const logs = pm2LogFiles(pm2.home, pkg.name);
  const live: Live = { baseline: new Map(), offsets: [] };
  const notStarted = (): string | undefined => {
    if (run.options.noStart) return '--no-start';
    if (!startCommand(pkg)) return 'no start script (a library: installed and built only)';
    return undefined;
  };
  const instancesOf = async () => (await pm2.jlist()).filter((p) => p.name === pkg.name);
  const want = () => {
    const n = desiredInstances(pkg, startCommand(pkg)!);
    return n === 'max' ? availableParallelism() : n;
  };

  /** `known`: the package's instances when the caller already has a fresh list (each `pm2 jlist` costs ~300 ms). */
  const launch = async (id: string, task: TaskWrapper, known?: Pm2Instance[]) => {
    activateRelease(config.root, pkg.name, id);
    const file = writeEcosystem(paths.apps, pkg, paths.current(pkg.name));
    const env = { ...packageEnv(config, pkg), OPSCTL_RELEASE: id };
    const running = known ?? (await instancesOf());
    live.offsets = logOffsets(logs);
    if (running.some((p) => p.state === 'online')) {
      task.output = `pm2 reload ${pkg.name}`;
      await pm2.reload(file, env);
      if (running.length !== want()) await pm2.scale(pkg.name, want());
      live.fresh = false;
      live.baseline = new Map((await instancesOf()).map((p) => [p.pmId, p.restarts]));
    } else {
      if (running.length) await pm2.action('delete', [pkg.name]);
      task.output = `pm2 start ${pkg.name}`;
      await pm2.start(file, env);
      live.fresh = true;
      live.baseline = new Map();
    }
  };

  /** Read first: a failed import leaves the instance "online" (no restarts), and reading the log costs no jlist. */
  const loadFailure = () => {
    const error = importFailureIn(readLogTail(logs, CRASH_SCAN_LINES, live.offsets));
    return error && `the release failed to load its code (${error})`;
  };
  const fatal = (id: string) => async () =>
    loadFailure() ?? problemOf(await instancesOf(), id, live.baseline, live.fresh);
  const gate = (id: string) =>
    live.unchanged
      ? waitHealthy(pkg, { timeoutMs: run.options.healthTimeoutMs, stableProbes: 1 })
      : waitHealthy(pkg, {
          timeoutMs: run.options.healthTimeoutMs,
          fatal: fatal(id),
          stableProbes: pkg.port ? 2 : PORTLESS_STABLE_PROBES,
        });

  const start: StepSpec = {
    step: 'start',
    pkg: pkg.name,
    async decide(): Promise<Decision> {
      const reason = notStarted();
      if (reason) return { run: false, reason };
      const id = releaseId(pkg);
      const current = currentRelease(config.root, pkg.name);
      const running = (run.before?.instances ?? []).filter((p) => p.name === pkg.name);
      live.id = id;
      live.previous = current;
      if (!run.options.force && current === id && isUpToDate(running, id, want(), pkg, run)) {
        live.unchanged = true;
        return { run: false, reason: `release ${id} already running (${running.length} instance(s))` };
      }
      return running.length
        ? { run: true, what: `pm2 reload ${pkg.name} (release ${current ?? '?'} → ${id})` }
        : { run: true, what: `pm2 start ${pkg.name} (release ${id}, ${want()} instance(s))` };
    },
    async run(task) {
      const id = live.id!;
      await prepareRelease(config.root, pkg, id);
      // the preflight's snapshot is current for this package: nothing else starts or stops it in between
      await launch(
        id,
        task,
        (run.before?.instances ?? []).filter((p) => p.name === pkg.name),
      );
      pruneReleases(config.root, pkg.name, [id, live.previous ?? id]);
      const report = run.reports.get(pkg.name);
      if (report) report.release = id;
      return `release ${id} on PM2`;
    },
  };

  const health: StepSpec = {
    step: 'health',
    pkg: pkg.name,
    decide(): Decision {
      const reason = notStarted();
      if (reason) return { run: false, reason };
      const where =
        pkg.port === undefined
          ? 'instances stay online'
          : pkg.health && pkg.health !== 'tcp'
            ? `GET :${pkg.port}${pkg.health} answers 2xx`
            : `port ${pkg.port} listens`;
      return { run: true, what: `wait until ${where}` };
    },
    async run() {
      const id = live.id ?? currentRelease(config.root, pkg.name) ?? '';
      const problem = await gate(id);
      if (!problem) return `healthy (release ${id})`;
      const tail = readLogTail(logs, LOG_TAIL_LINES, live.offsets);
      const report = run.reports.get(pkg.name);
      if (report) report.logTail = tail;
      throw new OpsError('HEALTH', `${pkg.name}: health gate failed: ${problem}.`, {
        hint: `Its last log lines are shown above; \`opsctl logs ${pkg.name}\` shows more.`,
        exitCode: 3,
      });
    },
    async rollback(task) {
      const report = run.reports.get(pkg.name);
      const previous = live.previous;
      if (live.unchanged) {
        task.title = `health: failed; ${pkg.name} was not changed by this deploy, so there is nothing to roll back`;
        return;
      }
      if (!previous || previous === live.id || run.options.dryRun) {
        // a first release that fails has nothing to go back to: stop it rather than leave it crash-looping
        task.title = `health: failed; no previous release of ${pkg.name}, stopping it`;
        await pm2.action('delete', [pkg.name]).catch(() => {});
        rmSync(paths.current(pkg.name), { force: true });
        return;
      }
      task.title = `health: failed; putting release ${previous} back`;
      live.unchanged = false;
      await launch(previous, task);
      const problem = await gate(previous);
      if (report) {
        report.rolledBackTo = previous;
        report.release = previous;
      }
      task.title = problem
        ? `health: failed; release ${previous} was put back but is not healthy either: ${problem}`
        : `health: failed; release ${previous} was put back and is healthy`;
    },
  };
  return [start, health];
}

/** A fatal problem with a package's instances: errored or stopped, or restarted since the start step. */
function problemOf(
  instances: Pm2Instance[],
  id: string,
  baseline: Map<number, number>,
  fresh = false,
): string | undefined {
  if (!instances.length) return 'no instance is running under PM2';
  for (const p of instances) {
    if (p.state === 'errored' || p.state === 'stopped')
      return `instance ${p.pmId} is ${p.state} (${p.restarts} restarts)`;
    const before = baseline.get(p.pmId) ?? (fresh ? 0 : undefined);
    if (before !== undefined && p.restarts > before) return `instance ${p.pmId} crashed and was restarted`;
    if (id && p.release && p.release !== id) return `instance ${p.pmId} runs release ${p.release}, not ${id}`;
  }
  return undefined;
}

/** Already running this release with the wanted instance count and the same app environment? */
function isUpToDate(running: Pm2Instance[], id: string, wanted: number, pkg: AppPackage, run: DeployRun): boolean {
  if (running.length !== wanted || running.some((p) => p.state !== 'online' || p.release !== id)) return false;
  const held = run.before?.envOf(pkg.name);
  const desired = packageEnv(run.deps.config, pkg);
  const keys = [...APP_ENV_KEYS, ...Object.keys(pkg.env)];
  return keys.every((k) => (held?.[k] ?? undefined) === desired[k]);
}
