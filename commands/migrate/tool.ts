import { adapterFor } from '../../src/db/tools/index.js';
import { runTool } from '../../src/db/tools/run.js';
import type { ToolAction, ToolChoice } from '../../src/db/tools/types.js';
import { ExitCode, usageError } from '../../src/errors.js';
import type { Cli } from '../shared/context.js';
import { err, out } from '../shared/output.js';
import { describeChoice, lockWaitNote, note } from './shared.js';

/** `migrate`/`rollback` when the app has its own tool (README, "Apps with their own migration tool"). */
export async function runToolCommand(
  cli: Cli,
  choice: ToolChoice,
  action: ToolAction,
  options: { lockTimeout: number; dryRun?: boolean },
): Promise<number> {
  if (options.dryRun)
    throw usageError(
      `--dry-run is not supported for ${choice.tool}: opsctl cannot run the app's own tool inside a transaction it rolls back.`,
      `Run \`opsctl migrate status\` to see what is pending, or run without --dry-run.`,
    );
  const config = cli.config();
  const adapter = adapterFor(choice.tool);
  const key = action.kind === 'up' ? 'applied' : 'reverted';
  note(cli, `… ${describeChoice(config.root, choice)}`);
  const result = await runTool({
    config,
    adapter,
    choice,
    action,
    lockTimeoutMs: options.lockTimeout,
    onLockWait: lockWaitNote(cli),
    // Ctrl-C ends the tool and its sessions, then reports what the state table shows (README, "Apps with their own migration tool")
    deferSignals: () => cli.deferSignals(),
    onLine: (line) => {
      if (!cli.json) err(`  ${line}`);
    },
  });
  const fields = { applied: result.applied, reverted: result.reverted, tool: choice.tool };
  if (result.error) {
    // what changed before the failure is part of the report, on stdout too (README, "JSON shapes")
    if (!cli.json) for (const name of result[key]) out(name);
    return cli.fail(result.error, fields);
  }
  if (result.nothingToDo) {
    note(
      cli,
      action.kind === 'up' ? '✔ Nothing to migrate: none pending.' : '✔ Nothing to roll back: no migration is applied.',
    );
    return cli.finish(ExitCode.ok, fields);
  }
  const changed = result[key];
  note(
    cli,
    result.stateless
      ? `✔ ${choice.tool}: the "${action.kind === 'up' ? 'migrate' : 'rollback'}" script succeeded (opsctl cannot read its state).`
      : `✔ ${action.kind === 'up' ? 'Applied' : 'Reverted'} ${changed.length} migration(s) with ${choice.tool}.`,
  );
  if (!cli.json) for (const name of changed) out(name);
  return cli.finish(ExitCode.ok, fields);
}
