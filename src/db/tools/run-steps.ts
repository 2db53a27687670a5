import type { ResolvedConfig } from '../../config/types.js';
import { OpsError } from '../../errors.js';
import type { Runner } from '../../process/runner.js';
import { connectClient, verifyDatabaseUrl } from '../migrate/connect.js';
import { acquireMigrationLock, type LockHolder } from '../migrate/lock.js';
import { adapterFor } from './index.js';
import { lockKeysFor, runToolProcess } from './run.js';
import type { ToolChoice, ToolCommand, ToolStatus } from './types.js';

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
      const res = await runToolProcess(client, config, choice, command, url, {
        lockTimeoutMs: options.lockTimeoutMs,
        runner: options.runner,
        signal,
        output,
        onLine: options.onLine,
      });
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
