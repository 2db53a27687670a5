import { prepareDown } from '../../src/db/migrate/engine.js';
import { verifyDownOptions } from '../../src/db/migrate/plan.js';
import { type MigrationRunResult, migrationTasks } from '../../src/db/migrate/tasks.js';
import { describeTarget } from '../../src/db/target-label.js';
import { detectTool } from '../../src/db/tools/detect.js';
import { adapterFor } from '../../src/db/tools/index.js';
import { ExitCode, usageError } from '../../src/errors.js';
import { runTasks } from '../../src/tasks/run.js';
import { confirmChange, verifyConfirmable } from '../shared/confirm-change.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { out } from '../shared/output.js';
import { note, noteFolder, openCliMigrator } from './shared.js';
import { runToolCommand } from './tool.js';

export interface RollbackOptions extends GlobalOptions {
  step?: number;
  to?: string;
  all?: boolean;
  force?: boolean;
  lockTimeout: number;
}

/** `opsctl rollback [--step n|--to name|--all]` (alias `migrate down`): revert applied migrations, newest first. */
export function rollback(cmd: Invocation<RollbackOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const opts = cli.opts;
    const dryRun = Boolean(opts.dryRun);
    // refuse before connecting: these need no database to decide
    verifyDownOptions({ step: opts.step, to: opts.to, all: opts.all });
    if (opts.all && config.envName === 'production' && !opts.force) {
      throw usageError(
        'rollback --all under --env production also needs --force.',
        'Reverting every migration in production drops its data; add --force if you mean it.',
      );
    }
    const choice = detectTool(config);
    const action = { kind: 'down' as const, step: opts.step, to: opts.to, all: opts.all };
    // an option the tool lacks (or an action it has not: Prisma has no rollback) is refused before asking
    if (choice && !dryRun) adapterFor(choice.tool).command(choice, action);
    const target = describeTarget(config);
    const change = (what: string) => ({
      question: `Roll back ${what} on ${target}`,
      destructive: true,
      unchanged: 'nothing was reverted',
      alternative: choice
        ? `\`opsctl migrate status\` shows what ${choice.tool} has applied`
        : '--dry-run to see what would be reverted',
    });
    if (!dryRun) verifyConfirmable(cli, change('migrations'));
    if (choice) {
      if (!dryRun) await confirmChange(cli, change(`${toolAction(opts)} with ${choice.tool} (${choice.pkg})`));
      return runToolCommand(cli, choice, action, { lockTimeout: opts.lockTimeout, dryRun });
    }
    const migrator = await openCliMigrator(cli, { lockTimeout: opts.lockTimeout, dryRun });
    const result: MigrationRunResult = { done: [], notRun: [] };
    const fields = () => ({ reverted: result.done, dryRun, notRun: result.notRun });
    try {
      noteFolder(cli, migrator.folder);
      const { plan } = await prepareDown(migrator, { step: opts.step, to: opts.to, all: opts.all });
      if (!plan.length) {
        note(cli, '✔ Nothing to roll back: no migration is applied.');
        return cli.finish(ExitCode.ok, fields());
      }
      if (!dryRun) await confirmChange(cli, change(plan.map((p) => p.source.name).join(', ')));
      cli.soFar = fields;
      // part-way through several: the same --step again would count from what is applied now
      const last = plan.at(-1)!.source.name;
      cli.interruptHint = () =>
        result.done.length && !dryRun
          ? `Reverted before it stopped: ${result.done.join(', ')}. \`opsctl rollback --to ${last}\` reverts the rest of what was planned (the same --step again would count from what is applied now).`
          : undefined;
      const errors = await runTasks(migrationTasks(migrator, plan, 'down', result), {}, { renderer: cli.renderer });
      if (errors.length) return cli.fail(errors[0], fields());
      note(
        cli,
        dryRun
          ? `✔ Dry run: ${result.done.length} migration(s) reverted and rolled back; nothing changed.`
          : `✔ Reverted ${result.done.length} migration(s).`,
      );
      if (!cli.json) for (const name of result.done) out(name);
      return cli.finish(ExitCode.ok, fields());
    } catch (error) {
      return cli.fail(error, fields());
    } finally {
      await migrator.close();
    }
  });
}

/** What a tool's rollback reverts, before it runs: `the last migration`, `2 migrations`, `down to 0002_x`. */
function toolAction(opts: RollbackOptions): string {
  if (opts.all) return 'every migration';
  if (opts.to) return `down to ${opts.to}`;
  return !opts.step || opts.step === 1 ? 'the last migration' : `the last ${opts.step} migrations`;
}
