import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { packageEnv } from '../../app/env.js';
import type { ResolvedConfig } from '../../config/types.js';
import { ExitCode, OpsError, usageError } from '../../errors.js';
import { createRunner, type Runner } from '../../process/runner.js';
import { connectClient, verifyDatabaseUrl } from '../migrate/connect.js';
import { acquireMigrationLock, type LockHolder, lockKeys } from '../migrate/lock.js';
import type { MigrationStatus } from '../migrate/plan.js';
import { toolPackages } from './detect.js';
import type { ToolAction, ToolAdapter, ToolChoice, ToolCommand } from './types.js';

/** A migration may rightly run for hours (an index build); the bound is for a tool that never exits. */
const TOOL_TIMEOUT_MS = 12 * 60 * 60 * 1000;
const MESSAGE_LINES = 2;
/** How long ending a killed tool's sessions waits for each backend to be gone. */
const END_SESSION_WAIT_MS = 5000;

export interface ToolRunOptions {
  config: ResolvedConfig;
  adapter: ToolAdapter;
  choice: ToolChoice;
  action: ToolAction;
  lockTimeoutMs: number;
  onLockWait?: (holder: LockHolder | undefined) => void;
  /** Each line of the tool's output, redacted: the task's log. */
  onLine?: (line: string) => void;
  runner?: Runner;
  /**
   * Called as the tool starts (before, a signal exits at once: the lock goes with the connection); its signal aborts
   * on Ctrl-C / SIGTERM: the tool's tree is ended, its sessions too, and the reason is the result's error.
   */
  deferSignals?: () => AbortSignal;
}

export interface ToolRunResult {
  /** From the state table before and after (README, "Apps with their own migration tool"), never from the output. */
  applied: string[];
  reverted: string[];
  /** Nothing pending (up) or applied (down): the tool was not started. */
  nothingToDo: boolean;
  /** The run failed: exit 3 (what changed is still in applied/reverted). */
  error?: OpsError;
  /** The tool said nothing about its state (the "scripts" tool): judged by its exit code alone. */
  stateless: boolean;
}

/**
 * Run one action through the app's tool (README, "Apps with their own migration tool"): no shell, the package's
 * environment with the database URL, opsctl's advisory lock held around it, and the state table read before and
 * after to say what changed. Usage errors (an option the tool lacks) come before connecting.
 */
export async function runTool(options: ToolRunOptions): Promise<ToolRunResult> {
  const { config, adapter, choice, action } = options;
  const url = verifyDatabaseUrl(config.database);
  const command = adapter.command(choice, action);
  const client = await connectClient(url, { lockTimeoutMs: options.lockTimeoutMs });
  try {
    const release = await acquireMigrationLock(client, lockKeysFor(choice), {
      timeoutMs: options.lockTimeoutMs,
      onWait: options.onLockWait,
    });
    try {
      const stateless = !choice.table;
      const before = await adapter.readStatus(client, choice);
      if (!stateless) {
        verifyTo(action, before);
        // `--to` a migration already applied: nothing to apply up to it, as with opsctl's engine (planUp)
        const nothing =
          action.kind === 'up'
            ? !before.pending.length || (action.to !== undefined && !before.pending.includes(action.to))
            : !before.executed.length;
        if (nothing) return { applied: [], reverted: [], nothingToDo: true, stateless };
      }
      const output: string[] = [];
      const signal = options.deferSignals?.();
      const res = await runToolProcess(client, config, choice, command, url, {
        lockTimeoutMs: options.lockTimeoutMs,
        runner: options.runner,
        signal,
        output,
        onLine: options.onLine,
      });
      const after = await adapter.readStatus(client, choice);
      const applied = after.executed.map((e) => e.name).filter((n) => !before.executed.some((b) => b.name === n));
      const reverted = before.executed.map((e) => e.name).filter((n) => !after.executed.some((a) => a.name === n));
      const result = { applied, reverted, nothingToDo: false, stateless };
      if (signal?.aborted) return { ...result, error: interrupted(signal.reason, action, result) };
      const error = judge({
        adapter,
        choice,
        action,
        before,
        applied,
        reverted,
        output,
        exitCode: res.exitCode,
        stateless,
      });
      return error ? { ...result, error } : result;
    } finally {
      await release().catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Run one of the tool's commands (no shell, in the package's folder, with `toolInvocation`'s environment), its
 * lines collected in `output`; then end the database sessions it left running. A command that cannot be started
 * is exit 3.
 */
export async function runToolProcess(
  client: pg.Client,
  config: ResolvedConfig,
  choice: ToolChoice,
  command: ToolCommand,
  url: string,
  options: {
    lockTimeoutMs: number;
    runner?: Runner;
    signal?: AbortSignal;
    output: string[];
    onLine?: (line: string) => void;
  },
): Promise<{ exitCode: number }> {
  const { env, args, session } = toolInvocation(config, choice, command, url, options.lockTimeoutMs);
  const res = await (options.runner ?? createRunner()).run(command.file, args, {
    cwd: choice.dir,
    env,
    timeoutMs: TOOL_TIMEOUT_MS,
    ...(options.signal ? { signal: options.signal } : {}),
    onLine: (line) => {
      options.output.push(line);
      options.onLine?.(line);
    },
  });
  if (res.notFound)
    throw new OpsError('TOOL_NOT_FOUND', `Could not start ${command.file} for ${choice.tool} in ${choice.dir}.`, {
      hint: 'Install the package (`npm install` in its folder) and check that the command exists.',
      exitCode: ExitCode.failed,
    });
  if (env.PGAPPNAME === session) await endSessions(client, session);
  return { exitCode: res.exitCode };
}

/**
 * The environment and arguments of a tool's run: the package's environment, `DATABASE_URL` (and the variable or
 * flag the tool reads it from), `PGAPPNAME` naming its sessions, and `--lock-timeout` as its `lock_timeout`.
 */
export function toolInvocation(
  config: ResolvedConfig,
  choice: ToolChoice,
  command: ToolCommand,
  url: string,
  lockTimeoutMs: number,
): { env: Record<string, string>; args: string[]; session: string } {
  const pkg = toolPackages(config).find((p) => p.name === choice.pkg);
  // a name for the tool's sessions, so the ones it leaves behind (a killed tool's query runs on) can be ended
  const session = `opsctl-tool-${process.pid}-${randomBytes(4).toString('hex')}`;
  const env: Record<string, string> = {
    PGAPPNAME: session,
    ...(pkg ? packageEnv(config, pkg) : {}),
    DATABASE_URL: url,
  };
  // --lock-timeout bounds the tool's waits for table locks too (node-postgres reads PGOPTIONS), as for opsctl's engine
  const given = env.PGOPTIONS ?? process.env.PGOPTIONS;
  env.PGOPTIONS = `${given ? `${given} ` : ''}-c lock_timeout=${Math.max(1, lockTimeoutMs)}`;
  if (command.urlEnv) env[command.urlEnv] = url;
  const args = command.urlFlag ? [...command.args, command.urlFlag, url] : command.args;
  return { env, args, session };
}

/**
 * The tool's sessions still open once it has exited: a killed tool's query runs on in the server, holding its
 * transaction and locks, until it finishes. They are ended (our own role's sessions, so no superuser needed).
 */
async function endSessions(client: pg.Client, name: string): Promise<void> {
  const sessions = 'from pg_stat_activity where application_name = $1 and pid <> pg_backend_pid()';
  // with a timeout (PostgreSQL 14+) the call returns once each backend is gone, not when it was only signalled
  await client
    .query(`select pg_terminate_backend(pid, ${END_SESSION_WAIT_MS}) ${sessions}`, [name])
    .catch(() => client.query(`select pg_terminate_backend(pid) ${sessions}`, [name]))
    .catch(() => {});
}

/** Ctrl-C / SIGTERM during the run: the interrupt (exit 130 / 143), with what the state table shows changed. */
function interrupted(reason: unknown, action: ToolAction, result: Omit<ToolRunResult, 'nothingToDo'>): OpsError {
  const error = reason instanceof OpsError ? reason : new OpsError('INTERRUPTED', 'Interrupted.');
  const verb = action.kind === 'up' ? 'applied' : 'reverted';
  const changed = result[verb];
  const state = result.stateless
    ? 'opsctl cannot read the state of the "scripts" tool: check the database before running again.'
    : changed.length
      ? `${capital(verb)} before it stopped: ${changed.join(', ')}.`
      : `Nothing was ${verb}.`;
  return new OpsError(error.code, error.message, {
    hint: `${state} ${error.hint ?? ''}`.trim(),
    exitCode: error.exitCode,
  });
}

/** One advisory lock per state table, the same key opsctl's engine would take for that table. */
export function lockKeysFor(choice: ToolChoice): [number, number] {
  const dot = choice.table.indexOf('.');
  if (!choice.table) return lockKeys('scripts', choice.pkg);
  return dot > 0 ? lockKeys(choice.table.slice(0, dot), choice.table.slice(dot + 1)) : lockKeys('public', choice.table);
}

function verifyTo(action: ToolAction, status: MigrationStatus): void {
  if (action.to === undefined) return;
  const executed = status.executed.map((e) => e.name);
  const known = action.kind === 'up' ? [...status.pending, ...executed] : executed;
  if (!known.includes(action.to))
    throw usageError(
      `--to ${action.to}: no such ${action.kind === 'up' ? '' : 'applied '}migration.`,
      `${action.kind === 'up' ? 'Pending' : 'Applied'}: ${(action.kind === 'up' ? status.pending : executed).join(', ') || 'none'}.`,
    );
}

interface Outcome {
  adapter: ToolAdapter;
  choice: ToolChoice;
  action: ToolAction;
  before: MigrationStatus;
  applied: string[];
  reverted: string[];
  output: string[];
  exitCode: number;
  stateless: boolean;
}

/** The state decides what happened; the exit code and the output say why. */
function judge(o: Outcome): OpsError | undefined {
  const verb = o.action.kind === 'up' ? 'applied' : 'reverted';
  const changed = o.action.kind === 'up' ? o.applied : o.reverted;
  const tool = `${o.choice.tool} (${o.choice.pkg})`;
  if (o.exitCode === 0) {
    if (o.stateless || changed.length) return undefined;
    return new OpsError('TOOL_NO_CHANGE', `${tool} exited 0 but ${verb} nothing; ${o.choice.table} did not change.`, {
      hint: `Expected ${o.action.kind === 'up' ? `pending: ${o.before.pending.join(', ')}` : 'the last applied migration to be reverted'}. Check that the tool uses this database (DATABASE_URL) and the state table ${o.choice.table}.`,
      exitCode: ExitCode.failed,
    });
  }
  const failing = o.stateless ? undefined : failingMigration(o);
  const message = databaseMessage(o.output);
  const what = failing ? `Migration ${failing} failed` : `${tool} failed`;
  const done = o.stateless
    ? ''
    : changed.length
      ? `${capital(verb)} before the failure: ${changed.join(', ')}. `
      : `Nothing was ${verb}. `;
  return new OpsError('MIGRATION_FAILED', `${what} (exit ${o.exitCode})${message ? `: ${message}` : '.'}`, {
    hint: `${done}${transactionNote(o.adapter, failing)} Fix it, then run again.`,
    exitCode: ExitCode.failed,
  });
}

/**
 * The migration the tool stopped at: of the pending (up) / applied (down) ones that did not change, the one the
 * output names last (tools print each migration as it starts, some list them all first), else the first pending /
 * newest applied.
 */
function failingMigration(o: Outcome): string | undefined {
  const left =
    o.action.kind === 'up'
      ? o.before.pending.filter((n) => !o.applied.includes(n))
      : o.before.executed
          .map((e) => e.name)
          .filter((n) => !o.reverted.includes(n))
          .reverse();
  const text = o.output.join('\n');
  const at = (n: string) => Math.max(text.lastIndexOf(n), text.lastIndexOf(n.replace(/\.[cm]?[jt]s$/, '')));
  const named = left.filter((n) => at(n) >= 0).sort((a, b) => at(b) - at(a));
  return named[0] ?? left[0];
}

/** The database's words from the tool's output: the lines that say error, without stack frames or npm's noise. */
export function databaseMessage(output: string[]): string {
  const lines = output
    .map((l) => l.trim())
    .filter((l) => /error|failed/i.test(l) && !/^at\s/.test(l) && !/^npm (ERR|error)/i.test(l))
    // `MigrationError: ... failed: Original error: relation "x" does not exist`, `ERROR: relation ...`: the last part
    .map(
      (l) =>
        l
          .split(/(?:Original error|\berror|ERROR):\s*/i)
          .pop()
          ?.trim() ?? l,
    )
    .filter(Boolean);
  const db = lines.filter((l) => /(relation|column|syntax|constraint|violat|exist|duplicate|permission)/i.test(l));
  return [...new Set(db.length ? db : lines)].slice(0, MESSAGE_LINES).join(' / ');
}

function transactionNote(adapter: ToolAdapter, failing: string | undefined): string {
  const it = failing ?? 'the failing migration';
  switch (adapter.transactional) {
    case 'each':
      return `${adapter.id} runs each migration in a transaction: ${it} was rolled back.`;
    case 'all':
      return `${adapter.id} runs the whole run in one transaction: it was rolled back.`;
    case 'configurable':
      return `Whether ${it} ran in a transaction depends on its configuration: check the database before re-running.`;
    default:
      return `${adapter.id} runs migrations outside a transaction: statements of ${it} before the failing one stay applied; check the database before re-running.`;
  }
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
