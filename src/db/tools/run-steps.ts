import type { ResolvedConfig } from '../../config/types.js';
import { ExitCode, OpsError } from '../../errors.js';
import { createRunner, type Runner } from '../../process/runner.js';
import { connectClient, verifyDatabaseUrl } from '../migrate/connect.js';
import { acquireMigrationLock, type LockHolder } from '../migrate/lock.js';
import { adapterFor } from './index.js';
import { endSessions, lockKeysFor, toolInvocation } from './run.js';
import type { ToolChoice, ToolCommand, ToolStatus } from './types.js';

/** A seed run or an unlock may take long too; the bound is for a tool that never exits. */
const STEP_TIMEOUT_MS = 12 * 60 * 60 * 1000;

export interface StepsOptions {
  config: ResolvedConfig;
  choice: ToolChoice;
  lockTimeoutMs: number;
  /** Hold opsctl's migration lock from before the state is read until the last command ends (redo, mark). */
  lock: boolean;
  /** The commands to run, in order, from the state read first (under the lock); may throw a usage error. */
  plan(before: ToolStatus | undefined): ToolCommand[] | Promise<ToolCommand[]>;
  onLockWait?: (holder: LockHolder | undefined) => void;
  onLine?: (line: string) => void;
  /** As for runTool: Ctrl-C ends the tool's tree and its sessions, and the run reports the interrupt. */
  deferSignals?: () => AbortSignal;
  runner?: Runner;
}

export interface StepsResult {
  /** The tool's state before and after (undefined for the stateless `scripts` tool). */
  before?: ToolStatus;
  after?: ToolStatus;
  /** The exit code of the last command run (non-zero: the one that failed; the rest were not run). */
  exitCode: number;
  /** How many commands ran. */
  ran: number;
  output: string[];
  interrupted?: OpsError;
}

/**
 * Run a verb through the app's tool (README, "Migration verbs with an app's tool"): each command without a shell,
 * in the package's folder, with its environment and the database URL, one after the other; the first that fails
 * stops the rest. With `lock`, opsctl's migration lock is held around all of them, so no other runner slips in
 * between (`redo` = down, then up).
 */
export async function runToolSteps(options: StepsOptions): Promise<StepsResult> {
  const { config, choice } = options;
  const url = verifyDatabaseUrl(config.database);
  const adapter = adapterFor(choice.tool);
  const client = await connectClient(url, { lockTimeoutMs: options.lockTimeoutMs });
  let release: (() => Promise<void>) | undefined;
  try {
    if (options.lock)
      release = await acquireMigrationLock(client, lockKeysFor(choice), {
        timeoutMs: options.lockTimeoutMs,
        onWait: options.onLockWait,
      });
    const readState = () => (choice.table ? adapter.readStatus(client, choice) : Promise.resolve(undefined));
    const before = await readState();
    const commands = await options.plan(before);
    const output: string[] = [];
    const signal = options.deferSignals?.();
    let exitCode = 0;
    let ran = 0;
    for (const command of commands) {
      const { env, args, session } = toolInvocation(config, choice, command, url, options.lockTimeoutMs);
      const res = await (options.runner ?? createRunner()).run(command.file, args, {
        cwd: choice.dir,
        env,
        timeoutMs: STEP_TIMEOUT_MS,
        ...(signal ? { signal } : {}),
        onLine: (line) => {
          output.push(line);
          options.onLine?.(line);
        },
      });
      if (res.notFound)
        throw new OpsError('TOOL_NOT_FOUND', `Could not start ${command.file} for ${choice.tool} in ${choice.dir}.`, {
          hint: 'Install the package (`npm install` in its folder) and check that the command exists.',
          exitCode: ExitCode.failed,
        });
      await endSessions(client, session);
      ran++;
      exitCode = res.exitCode;
      if (exitCode !== 0 || signal?.aborted) break;
    }
    const after = await readState();
    const interrupted = signal?.aborted
      ? signal.reason instanceof OpsError
        ? signal.reason
        : new OpsError('INTERRUPTED', 'Interrupted.')
      : undefined;
    return { before, after, exitCode, ran, output, ...(interrupted ? { interrupted } : {}) };
  } finally {
    await release?.().catch(() => {});
    await client.end().catch(() => {});
  }
}
