import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageEnv } from '../app/env.js';
import { hashManifest, hashTree } from '../app/hash.js';
import { deployPaths } from '../app/paths.js';
import { ExitCode, OpsError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import type { RunResult } from '../process/runner.js';
import { hasOutputs, lockfileOf } from './package-files.js';
import { readDeployState, updateDeployState } from './state.js';
import type { StepSpec, TaskWrapper } from './step.js';
import type { Decision, DeployRun } from './types.js';

const NPM_INSTALL_TIMEOUT_MS = 10 * 60_000; // a cold install of a large app behind a slow registry
const BUILD_TIMEOUT_MS = 15 * 60_000; // bundlers on big front ends
const FAILURE_LINES = 30;

/** `install`: npm ci with a lockfile, else npm install; skipped when node_modules matches the lockfile. */
export function installStep(run: DeployRun, pkg: AppPackage): StepSpec {
  const statePath = deployPaths(run.deps.config.root).state;
  const lockfile = lockfileOf(pkg.dir);
  const args = lockfile ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
  return {
    step: 'install',
    pkg: pkg.name,
    decide(): Decision {
      if (run.options.skipInstall) return { run: false, reason: '--skip-install' };
      const what = `npm ${args[0]}`;
      if (run.options.force) return { run: true, what: `${what} (--force)` };
      if (!Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).length)
        return { run: false, reason: 'no dependencies' };
      if (!existsSync(join(pkg.dir, 'node_modules'))) return { run: true, what: `${what} (no node_modules)` };
      const manifest = hashManifest(pkg.dir);
      const known = readDeployState(statePath)[pkg.name]?.install;
      if (known === manifest || (!known && lockfile && matchesHiddenLockfile(pkg.dir, lockfile))) {
        return { run: false, reason: `node_modules matches ${lockfile ? 'the lockfile' : 'package.json'}` };
      }
      return { run: true, what: `${what} (${known ? 'dependencies changed' : 'not installed by opsctl yet'})` };
    },
    async run(task) {
      // forgotten until it succeeds: an interrupted `npm ci` leaves node_modules half-installed
      updateDeployState(statePath, pkg.name, { install: undefined });
      const res = await npm(run, pkg, args, NPM_INSTALL_TIMEOUT_MS, task);
      verifyNpm(res, pkg, `npm ${args[0]}`, run.signal);
      updateDeployState(statePath, pkg.name, { install: hashManifest(pkg.dir) });
    },
  };
}

/** `build`: `npm run build` when the script exists; skipped when the inputs hash equals the last good build's. */
export function buildStep(run: DeployRun, pkg: AppPackage): StepSpec {
  const statePath = deployPaths(run.deps.config.root).state;
  const inputs = () => `${hashTree(pkg.dir, pkg.outputs)}:${hashManifest(pkg.dir)}`;
  return {
    step: 'build',
    pkg: pkg.name,
    decide(): Decision {
      if (run.options.skipBuild) return { run: false, reason: '--skip-build' };
      if (pkg.scripts.build === undefined) return { run: false, reason: 'no build script' };
      if (run.options.force) return { run: true, what: 'npm run build (--force)' };
      const known = readDeployState(statePath)[pkg.name]?.build;
      if (known && known === inputs() && hasOutputs(pkg.dir, pkg.outputs)) {
        return { run: false, reason: 'inputs unchanged since the last build' };
      }
      return { run: true, what: `npm run build (${known ? 'inputs changed' : 'no previous build'})` };
    },
    async run(task) {
      const before = inputs();
      // forgotten until it succeeds: an interrupted build leaves its outputs half-written
      updateDeployState(statePath, pkg.name, { build: undefined });
      const res = await npm(run, pkg, ['run', 'build'], BUILD_TIMEOUT_MS, task);
      verifyNpm(res, pkg, 'npm run build', run.signal);
      updateDeployState(statePath, pkg.name, { build: before });
    },
  };
}

function npm(
  run: DeployRun,
  pkg: AppPackage,
  args: string[],
  timeoutMs: number,
  task: TaskWrapper,
): Promise<RunResult> {
  return run.deps.runner.run('npm', args, {
    cwd: pkg.dir,
    timeoutMs,
    // an interrupted deploy ends npm's whole process tree at once (README, "One at a time")
    signal: run.signal,
    env: { ...packageEnv(run.deps.config, pkg), npm_config_update_notifier: 'false' },
    onLine: (line) => {
      task.output = line;
    },
  });
}

function verifyNpm(res: RunResult, pkg: AppPackage, what: string, signal?: AbortSignal): void {
  if (res.exitCode === 0 && !res.timedOut) return;
  // npm ended by our own interrupt did not fail on its own: the step reports the interrupt (README, "One at a time")
  if (signal?.aborted && signal.reason instanceof Error) throw signal.reason;
  if (res.notFound) {
    throw new OpsError('NPM_NOT_FOUND', 'npm was not found on PATH.', {
      hint: 'Install Node.js with npm, or fix PATH.',
      exitCode: ExitCode.failed,
    });
  }
  const output = `${res.stdout}\n${res.stderr}`
    .split('\n')
    .filter((l) => l.trim())
    .slice(-FAILURE_LINES);
  throw new OpsError(
    'STEP_FAILED',
    `${pkg.name}: ${what} ${res.timedOut ? 'timed out' : `failed (exit ${res.exitCode})`}:\n${output.map((l) => `    ${l}`).join('\n')}`,
    { hint: `Run \`${what}\` in ${pkg.path} to reproduce; nothing was restarted.`, exitCode: ExitCode.failed },
  );
}

/** npm's hidden lockfile (node_modules/.package-lock.json) lists the same versions as the lockfile. */
function matchesHiddenLockfile(dir: string, lockfile: string): boolean {
  const hidden = join(dir, 'node_modules', '.package-lock.json');
  if (!existsSync(hidden)) return false;
  try {
    const want =
      (JSON.parse(readFileSync(lockfile, 'utf8')) as { packages?: Record<string, { version?: string }> }).packages ??
      {};
    const have =
      (JSON.parse(readFileSync(hidden, 'utf8')) as { packages?: Record<string, { version?: string }> }).packages ?? {};
    const wanted = Object.entries(want).filter(([path]) => path.startsWith('node_modules/'));
    return (
      wanted.length === Object.keys(have).length &&
      wanted.every(([path, entry]) => have[path]?.version === entry.version)
    );
  } catch {
    return false;
  }
}
