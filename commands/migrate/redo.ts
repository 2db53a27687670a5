import { prepareRedo } from '../../src/db/migrate/redo.js';
import { type MigrationRunResult, migrationTasks } from '../../src/db/migrate/tasks.js';
import { detectTool } from '../../src/db/tools/detect.js';
import { ExitCode, errorMessage, isOpsError, OpsError } from '../../src/errors.js';
import { runTasks } from '../../src/tasks/run.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { out } from '../shared/output.js';
import { describeCliTarget, note, noteFolder, openCliMigrator, verifyCanConfirm, verifyConfirmed } from './shared.js';
import { redoWithTool } from './tool-verbs.js';

export interface RedoOptions extends GlobalOptions {
  lockTimeout: number;
}

/**
 * `opsctl migrate redo`: revert the last applied migration and apply it again, under one hold of the migration lock
 * (README, "`migrate redo`").
 */
export function redo(cmd: Invocation<RedoOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const dryRun = Boolean(cli.opts.dryRun);
    const choice = detectTool(cli.config());
    // refused before connecting (and before waiting for the lock) when it could not be confirmed
    verifyCanConfirm(cli, `Redo the last migration on ${describeCliTarget(cli)}`);
    if (choice) return redoWithTool(cli, choice, cli.opts.lockTimeout);
    const migrator = await openCliMigrator(cli, { lockTimeout: cli.opts.lockTimeout, dryRun });
    const down: MigrationRunResult = { done: [], notRun: [] };
    const up: MigrationRunResult = { done: [], notRun: [] };
    const warnings: string[] = [];
    const fields = () => ({
      reverted: down.done,
      applied: up.done,
      dryRun,
      notRun: [...new Set([...down.notRun, ...up.notRun])],
      warnings,
    });
    cli.soFar = fields;
    try {
      noteFolder(cli, migrator.folder);
      const prepared = await prepareRedo(migrator);
      if (!prepared) {
        note(cli, '✔ Nothing to redo: no migration is applied.');
        return cli.finish(ExitCode.ok, fields());
      }
      const name = prepared.migration.source.name;
      // a signal between the committed down step and the up step's commit leaves the migration pending
      cli.interruptHint = () => (down.done.length && !up.done.length && !dryRun ? pendingNow(name) : undefined);
      if (prepared.drifted) {
        warnings.push(`${name} changed since it was applied: it is reverted and applied as the file is now.`);
        note(cli, `⚠ ${warnings.at(-1)}`);
      }
      await verifyConfirmed(
        cli,
        `Redo ${name} (revert it, then apply it again) on ${describeCliTarget(cli)}?`,
        'nothing was changed.',
      );
      const renderer = { renderer: cli.renderer };
      const downErrors = await runTasks(migrationTasks(migrator, [prepared.migration], 'down', down), {}, renderer);
      if (downErrors.length) return cli.fail(downErrors[0], fields());
      const upErrors = await runTasks(migrationTasks(migrator, [prepared.migration], 'up', up), {}, renderer);
      if (upErrors.length) return cli.fail(dryRun ? upErrors[0] : nowPending(upErrors[0], name), fields());
      note(
        cli,
        dryRun
          ? `✔ Dry run: ${name} reverted and applied again, then rolled back; nothing changed.`
          : `✔ Redid ${name}: reverted and applied again.`,
      );
      if (!cli.json) out(name);
      return cli.finish(ExitCode.ok, fields());
    } catch (error) {
      return cli.fail(error, fields());
    } finally {
      await migrator.close();
    }
  });
}

/** The up step's error, saying the down step stays: the migration is now pending (also under --json). */
function nowPending(error: unknown, name: string): OpsError {
  const hint = isOpsError(error) ? error.hint : undefined;
  return new OpsError(isOpsError(error) ? error.code : 'MIGRATION_FAILED', errorMessage(error), {
    hint: `${name} was reverted, and applying it again failed: it is now pending (\`opsctl migrate\` applies it). ${hint ?? ''}`.trim(),
    exitCode: isOpsError(error) ? error.exitCode : ExitCode.failed,
    cause: error,
  });
}

/** The hint of a redo interrupted after its down step committed: not "run it again", which would redo another one. */
function pendingNow(name: string): string {
  return `${name} was reverted and not applied again: it is now pending. \`opsctl migrate\` applies it (\`migrate redo\` now would redo the migration before it).`;
}
