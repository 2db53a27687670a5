import { packageEnv } from '../app/env.js';
import type { ResolvedConfig } from '../config/types.js';
import { ExitCode } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import type { Runner } from '../process/runner.js';

/** An npm script of a pipeline (a test suite, a build, a smoke check) may run for a long time. */
const NPM_SCRIPT_TIMEOUT_MS = 30 * 60_000;
/** How many of the script's last output lines a failure keeps. */
const TAIL_LINES = 20;

export interface NpmStepResult {
  package: string;
  script: string;
  /** 0, or 3 when the script failed (README, "Exit codes"). */
  exitCode: number;
  /** The script's own exit code (124 after the time limit). */
  scriptExitCode: number;
  timedOut: boolean;
  /** Its last output lines (redacted), kept when it failed. */
  tail: string[];
}

/**
 * `npm run <script>` in the package's folder, with the environment opsctl gives the package's processes (README,
 * "Config"); each output line goes to `onLine`. A failing script is a value: exit code 3.
 */
export async function runNpmStep(
  deps: { config: ResolvedConfig; runner: Runner; signal?: AbortSignal },
  step: { pkg: AppPackage; script: string },
  onLine: (line: string) => void,
): Promise<NpmStepResult> {
  const lines: string[] = [];
  const res = await deps.runner.run('npm', ['run', step.script], {
    cwd: step.pkg.dir,
    env: packageEnv(deps.config, step.pkg),
    timeoutMs: NPM_SCRIPT_TIMEOUT_MS,
    signal: deps.signal,
    onLine: (line) => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      onLine(line);
    },
  });
  const ok = res.exitCode === 0 && !res.timedOut;
  return {
    package: step.pkg.name,
    script: step.script,
    exitCode: ok ? ExitCode.ok : ExitCode.failed,
    scriptExitCode: res.exitCode,
    timedOut: res.timedOut,
    tail: ok ? [] : lines,
  };
}
