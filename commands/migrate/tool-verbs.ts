import { databaseMessage } from '../../src/db/tools/run.js';
import { runToolSteps, type StepsResult } from '../../src/db/tools/run-steps.js';
import type { ToolChoice, ToolStatus } from '../../src/db/tools/types.js';
import { toolVerbPlan } from '../../src/db/tools/verbs.js';
import { ExitCode, OpsError, usageError } from '../../src/errors.js';
import type { Cli } from '../shared/context.js';
import { err, out } from '../shared/output.js';
import { nearNames } from '../shared/typo.js';
import { describeChoice, describeCliTarget, lockWaitNote, note, verifyConfirmed } from './shared.js';

/** `migrate redo|mark` and `db seed` with the app's own tool (README, "Migration verbs with an app's tool"). */

function verifyNoDryRun(cli: Cli, choice: ToolChoice): void {
  if (cli.opts.dryRun)
    throw usageError(
      `--dry-run is not supported for ${choice.tool}: opsctl cannot run the app's own tool inside a transaction it rolls back.`,
      'Run `opsctl migrate status` to see the state, or run without --dry-run.',
    );
}

/** Run the tool's commands with its output on stderr (not under --json), Ctrl-C handled as for `migrate`. */
export function runSteps(
  cli: Cli,
  choice: ToolChoice,
  options: { lockTimeout: number; lock: boolean; plan: Parameters<typeof runToolSteps>[0]['plan'] },
): Promise<StepsResult> {
  note(cli, `… ${describeChoice(cli.config().root, choice)}`);
  return runToolSteps({
    config: cli.config(),
    choice,
    lockTimeoutMs: options.lockTimeout,
    lock: options.lock,
    plan: options.plan,
    onLockWait: lockWaitNote(cli),
    deferSignals: () => cli.deferSignals(),
    onLine: (line) => {
      if (!cli.json) err(`  ${line}`);
    },
  });
}

/** The error for a tool command that failed (exit 3), with the database's words from its output. */
export function stepError(choice: ToolChoice, res: StepsResult, what: string, state: string): OpsError {
  // what the state is, not "run the command again": a redo would redo another migration, seeds would run twice
  if (res.interrupted)
    return new OpsError(res.interrupted.code, res.interrupted.message, {
      hint: state,
      exitCode: res.interrupted.exitCode,
    });
  const message = databaseMessage(res.output);
  return new OpsError(
    'TOOL_FAILED',
    `${what} with ${choice.tool} (${choice.pkg}) failed${res.exitCode ? ` (exit ${res.exitCode})` : ''}${message ? `: ${message}` : '.'}`,
    { hint: `${state} Fix it, then run again.`, exitCode: ExitCode.failed },
  );
}

const appliedAt = (status: ToolStatus | undefined, name: string) =>
  status?.executed.find((e) => e.name === name)?.appliedAt;

export async function redoWithTool(cli: Cli, choice: ToolChoice, lockTimeout: number): Promise<number> {
  const verbs = toolVerbPlan(choice, 'redo')!;
  verifyNoDryRun(cli, choice);
  let last: string | undefined;
  const res = await runSteps(cli, choice, {
    lockTimeout,
    lock: true,
    plan: async (before) => {
      last = before?.executed
        .map((e) => e.name)
        .sort()
        .at(-1);
      if (!before || !last) return [];
      const commands = verbs.redo!(choice, before);
      await verifyConfirmed(
        cli,
        `Redo ${last} with ${choice.tool} (revert it, then apply it again) on ${describeCliTarget(cli)}?`,
        'nothing was changed.',
      );
      return commands;
    },
  });
  if (!last) {
    note(cli, '✔ Nothing to redo: no migration is applied.');
    return cli.finish(ExitCode.ok, { reverted: [], applied: [], tool: choice.tool });
  }
  const isApplied = Boolean(appliedAt(res.after, last) !== undefined);
  const redone = isApplied && res.exitCode === 0 && !res.interrupted;
  const fields = { reverted: isApplied && !redone ? [] : [last], applied: redone ? [last] : [], tool: choice.tool };
  if (!redone) {
    const state = isApplied
      ? `${last} is still applied.`
      : `${last} was reverted and is now pending: \`opsctl migrate\` applies it (\`migrate redo\` now would redo the one before it).`;
    return cli.fail(stepError(choice, res, `Redo of ${last}`, state), fields);
  }
  note(cli, `✔ Redid ${last} with ${choice.tool}: reverted and applied again.`);
  if (!cli.json) out(last);
  return cli.finish(ExitCode.ok, fields);
}

export async function markWithTool(
  cli: Cli,
  choice: ToolChoice,
  name: string,
  as: 'applied' | 'pending',
  lockTimeout: number,
): Promise<number> {
  const verbs = toolVerbPlan(choice, 'mark')!;
  verifyNoDryRun(cli, choice);
  let already = false;
  const res = await runSteps(cli, choice, {
    lockTimeout,
    lock: true,
    plan: async (before) => {
      const executed = before?.executed.map((e) => e.name) ?? [];
      const known = [...(before?.pending ?? []), ...executed];
      if (!known.includes(name)) {
        const near = nearNames(name, known);
        throw usageError(
          `No migration ${name} for ${choice.tool}.`,
          near.length
            ? `Did you mean ${near.join(', ')}?`
            : `Names as ${choice.tool} shows them: ${known.join(', ') || 'none'}.`,
        );
      }
      already = executed.includes(name) === (as === 'applied');
      if (already) return [];
      await verifyConfirmed(
        cli,
        `Mark ${name} as ${as} with ${choice.tool}, running nothing, on ${describeCliTarget(cli)}?`,
        'nothing was changed.',
      );
      return [verbs.mark!(choice, name, as)];
    },
  });
  if (already) {
    note(cli, `✔ ${name} is already ${as}; nothing changed.`);
    return cli.finish(ExitCode.ok, { name, as, changed: false, tool: choice.tool });
  }
  const nowApplied = appliedAt(res.after, name) !== undefined;
  const changed = nowApplied === (as === 'applied');
  const fields = { name, as, changed, tool: choice.tool };
  if (!changed || res.exitCode !== 0 || res.interrupted)
    return cli.fail(
      stepError(choice, res, `Marking ${name} as ${as}`, changed ? `${name} is now ${as}.` : `${name} did not change.`),
      fields,
    );
  note(cli, `✔ Marked ${name} as ${as} with ${choice.tool} (nothing was run).`);
  if (!cli.json) out(name);
  return cli.finish(ExitCode.ok, fields);
}
