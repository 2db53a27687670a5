import { packageEnv } from '../app/env.js';
import { waitHealthy } from '../app/health.js';
import { ExitCode, type ExitCodeValue, OpsError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import { startCommand } from '../pm2/ecosystem.js';
import { stopGroupsSync } from '../process/process-group.js';
import type { SpawnedProcess } from '../process/runner.js';
import { portTaken } from './preflight.js';
import type { DeployRun } from './types.js';

const STOP_GRACE_MS = 5_000; // then SIGKILL; the example backend closes its pool and exits well within this
const TAIL_LINES = 50;

export interface ForegroundHooks {
  onLine(pkg: string, line: string): void;
  onEvent(text: string): void;
}

export interface ForegroundResult {
  exitCode: ExitCodeValue;
  failed?: Error;
  tails: Map<string, string[]>;
  failedPackage?: string;
}

/**
 * `deploy --foreground`: each package with a start script as a plain child process (its own process group), in
 * dependency order, each health-gated before its dependents start. Runs until one exits or opsctl is stopped;
 * on exit (Ctrl-C included) every group it started is stopped, so nothing is left behind.
 */
export async function runForeground(run: DeployRun, hooks: ForegroundHooks): Promise<ForegroundResult> {
  const { runner, config } = run.deps;
  if (!runner.spawn) throw new OpsError('NO_SPAWN', 'This runner cannot start long-lived processes.');
  const children = new Map<string, SpawnedProcess>();
  const tails = new Map<string, string[]>();
  // the preflight deploy runs, before any child starts: in the foreground every holder is in the way, PM2's too
  for (const pkg of run.packages.filter((p) => startCommand(p))) {
    const taken = await portTaken(run, pkg, () => false, 'nothing was started');
    if (taken) return { exitCode: ExitCode.failed, failed: taken, tails, failedPackage: pkg.name };
  }
  const stopAll = () =>
    stopGroupsSync(
      [...children.values()].flatMap((c) => (c.pid ? [c.pid] : [])),
      STOP_GRACE_MS,
    );
  // SIGTERM (a supervisor stopping us) ends the run like a child's exit would; Ctrl-C is the CLI's (exit 130)
  const terminated = new AbortController();
  const onTerm = () => terminated.abort();
  const termination = new Promise<'terminated'>((resolve) =>
    terminated.signal.addEventListener('abort', () => resolve('terminated'), { once: true }),
  );
  process.on('exit', stopAll);
  process.once('SIGTERM', onTerm);
  const exits: Promise<{ pkg: string; code: number }>[] = [];
  try {
    for (const pkg of run.packages) {
      const command = startCommand(pkg);
      if (!command) continue;
      const [cmd, args] = command.cluster
        ? [process.execPath, [...command.nodeArgs, command.script, ...command.args]]
        : ['npm', command.args];
      const tail: string[] = [];
      tails.set(pkg.name, tail);
      const child = await runner.spawn(cmd, args, {
        cwd: pkg.dir,
        env: packageEnv(config, pkg),
        onLine: (line) => {
          tail.push(line);
          if (tail.length > TAIL_LINES) tail.shift();
          hooks.onLine(pkg.name, line);
        },
      });
      children.set(pkg.name, child);
      let exitCode: number | undefined;
      exits.push(
        child.exited.then((r) => {
          exitCode = r.exitCode;
          return { pkg: pkg.name, code: r.exitCode };
        }),
      );
      const problem = await waitHealthy(pkg, {
        timeoutMs: run.options.healthTimeoutMs,
        signal: terminated.signal,
        fatal: async () => (exitCode !== undefined ? `exited with code ${exitCode}` : undefined),
      });
      if (terminated.signal.aborted) return { exitCode: ExitCode.terminated, tails };
      if (problem) return failure(pkg, `${pkg.name} did not become healthy: ${problem}`, tails);
      hooks.onEvent(`✔ ${pkg.name} is up${pkg.port ? ` on http://localhost:${pkg.port}` : ''} (pid ${child.pid})`);
    }
    if (!children.size) return { exitCode: ExitCode.ok, tails };
    hooks.onEvent('Running in the foreground; Ctrl-C stops every process.');
    const first = await Promise.race([...exits, termination]);
    if (first === 'terminated') return { exitCode: ExitCode.terminated, tails };
    const pkg = run.packages.find((p) => p.name === first.pkg)!;
    return failure(pkg, `${first.pkg} exited with code ${first.code}; stopping the others.`, tails);
  } finally {
    stopAll();
    process.removeListener('exit', stopAll);
    process.removeListener('SIGTERM', onTerm);
  }
}

function failure(pkg: AppPackage, message: string, tails: Map<string, string[]>): ForegroundResult {
  return { exitCode: ExitCode.failed, failed: new OpsError('FOREGROUND', message), tails, failedPackage: pkg.name };
}

/** The last lines of the package that failed. */
export function packageTail(result: ForegroundResult, n: number): string[] {
  return result.failedPackage ? (result.tails.get(result.failedPackage) ?? []).slice(-n) : [];
}
