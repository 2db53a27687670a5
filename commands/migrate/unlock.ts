import { connectClient, verifyDatabaseUrl } from '../../src/db/migrate/connect.js';
import { lockKeys } from '../../src/db/migrate/lock.js';
import { parseRunnerName } from '../../src/db/migrate/runner-name.js';
import {
  describeLockSession,
  endLockSession,
  judgeHolder,
  type LockInspection,
  readLockSession,
  verifyReleasable,
} from '../../src/db/migrate/unlock.js';
import { detectTool } from '../../src/db/tools/detect.js';
import { lockKeysFor } from '../../src/db/tools/run.js';
import type { ToolChoice } from '../../src/db/tools/types.js';
import { toolVerbPlan } from '../../src/db/tools/verbs.js';
import { ExitCode } from '../../src/errors.js';
import { type Cli, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { describeCliTarget, note, verifyConfirmed } from './shared.js';
import { runSteps, stepError } from './tool-verbs.js';

/** knex's migrate:unlock updates one row: a short wait for it. */
const TOOL_LOCK_TIMEOUT_MS = 10_000;

export interface UnlockOptions extends GlobalOptions {
  force?: boolean;
}

/**
 * `opsctl migrate unlock`: release the migration lock when its holder is gone, naming the holder; refuse (exit 5)
 * while it is alive (README, "`migrate unlock`").
 */
export function unlock(cmd: Invocation<UnlockOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const dryRun = Boolean(cli.opts.dryRun);
    const choice = detectTool(config);
    const keys = choice ? lockKeysFor(choice) : lockKeys(config.database.schema, config.database.table);
    const client = await connectClient(verifyDatabaseUrl(config.database));
    let inspection: LockInspection | undefined;
    let released = false;
    const fields = () => ({
      holder: inspection ? holderJson(inspection) : null,
      released,
      ...(dryRun ? { dryRun: true } : {}),
      ...(choice ? { tool: choice.tool } : {}),
    });
    try {
      const holder = await readLockSession(client, keys);
      if (!holder) note(cli, `✔ No migration lock held on ${describeCliTarget(cli)}.`);
      else {
        inspection = judgeHolder(holder);
        // refused: the ✖ line names the holder; releasable: say whose lock is about to be released
        verifyReleasable(inspection, Boolean(cli.opts.force));
        note(cli, `⚠ The migration lock is held by ${describeLockSession(holder)}: ${inspection.reason}.`);
        await verifyConfirmed(
          cli,
          `End session pid ${holder.pid} (${inspection.reason}) to release the migration lock on ${describeCliTarget(cli)}?`,
          'the lock is still held.',
        );
        if (!dryRun) {
          await endLockSession(client, holder, keys);
          released = true;
        }
        note(
          cli,
          dryRun
            ? `✔ Dry run: session pid ${holder.pid} would be ended; nothing changed.`
            : `✔ Released the migration lock: ended session pid ${holder.pid}.`,
        );
      }
    } catch (error) {
      return cli.fail(error, fields());
    } finally {
      await client.end().catch(() => {});
    }
    if (choice && toolVerbPlan(choice, 'unlock')) return unlockTool(cli, choice, fields);
    return cli.finish(ExitCode.ok, fields());
  });
}

/** The tool's own lock (knex's `knex_migrations_lock`), cleared with the tool's command when it is left locked. */
async function unlockTool(cli: Cli, choice: ToolChoice, fields: () => Record<string, unknown>): Promise<number> {
  const dryRun = Boolean(cli.opts.dryRun);
  let locked = false;
  const res = await runSteps(cli, choice, {
    lockTimeout: TOOL_LOCK_TIMEOUT_MS,
    lock: false,
    plan: async (before) => {
      locked = Boolean(before?.warnings?.some((w) => / is locked/.test(w)));
      if (!locked || dryRun) return [];
      await verifyConfirmed(
        cli,
        `Clear ${choice.table}_lock with ${choice.tool} (no opsctl runner holds the migration lock) on ${describeCliTarget(cli)}?`,
        `${choice.table}_lock is still locked.`,
      );
      return [toolVerbPlan(choice, 'unlock')!.unlock!(choice)];
    },
  });
  const toolLock = { table: `${choice.table}_lock`, locked, released: locked && !dryRun };
  if (!locked) note(cli, `✔ ${choice.table}_lock is not locked.`);
  else if (dryRun) note(cli, `✔ Dry run: ${choice.table}_lock would be cleared with ${choice.tool}.`);
  else if (res.exitCode !== 0 || res.interrupted || res.after?.warnings?.some((w) => / is locked/.test(w)))
    return cli.fail(stepError(choice, res, `Clearing ${choice.table}_lock`, `${choice.table}_lock is still locked.`), {
      ...fields(),
      toolLock: { ...toolLock, released: false },
    });
  else note(cli, `✔ Cleared ${choice.table}_lock with ${choice.tool}.`);
  return cli.finish(ExitCode.ok, { ...fields(), toolLock });
}

function holderJson({ holder, verdict, reason }: LockInspection) {
  return {
    pid: holder.pid,
    applicationName: holder.applicationName,
    clientAddr: holder.clientAddr,
    since: holder.since?.toISOString() ?? null,
    state: holder.state,
    stateChange: holder.stateChange?.toISOString() ?? null,
    runner: parseRunnerName(holder.applicationName) ?? null,
    verdict,
    reason,
  };
}
