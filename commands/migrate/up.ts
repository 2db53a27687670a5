import { verifyDatabaseUrl } from '../../src/db/migrate/connect.js';
import { prepareUp } from '../../src/db/migrate/engine.js';
import { verifyUpOptions } from '../../src/db/migrate/plan.js';
import { diffSchema, type SchemaChanges } from '../../src/db/migrate/snapshot.js';
import { type MigrationRunResult, migrationTasks } from '../../src/db/migrate/tasks.js';
import { describeTarget, isProduction } from '../../src/db/target-label.js';
import { detectTool } from '../../src/db/tools/detect.js';
import { ExitCode } from '../../src/errors.js';
import { runTasks } from '../../src/tasks/run.js';
import { confirmInProduction, verifyConfirmable } from '../shared/confirm-change.js';
import { type Cli, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { out } from '../shared/output.js';
import { note, noteFolder, openCliMigrator } from './shared.js';
import { runToolCommand } from './tool.js';

export interface UpOptions extends GlobalOptions {
  to?: string;
  step?: number;
  allowDrift?: boolean;
  lockTimeout: number;
}

/** `opsctl migrate [up]`: apply pending migrations under the lock, one transaction each. */
export function up(cmd: Invocation<UpOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const opts = cli.opts;
    const dryRun = Boolean(opts.dryRun);
    verifyUpOptions({ to: opts.to, step: opts.step });
    // refused before connecting when production's confirmation could not be given; a missing database is the
    // first thing to fix, so it is reported before the confirmation it would need
    if (opts.allowDrift && !dryRun && isProduction(cli.config())) {
      verifyDatabaseUrl(cli.config().database);
      verifyConfirmable(cli, driftChange(cli, []));
    }
    const choice = detectTool(cli.config());
    if (choice)
      return runToolCommand(
        cli,
        choice,
        { kind: 'up', to: opts.to, step: opts.step },
        { lockTimeout: opts.lockTimeout, dryRun },
      );
    const migrator = await openCliMigrator(cli, { lockTimeout: opts.lockTimeout, dryRun });
    const result: MigrationRunResult = { done: [], notRun: [] };
    let changes: SchemaChanges | undefined;
    const fields = () => ({
      applied: result.done,
      dryRun,
      notRun: result.notRun,
      ...(dryRun ? { changes } : {}),
    });
    try {
      noteFolder(cli, migrator.folder);
      const { status, plan, allowedDrift } = await prepareUp(migrator, {
        to: opts.to,
        step: opts.step,
        allowDrift: opts.allowDrift,
      });
      if (allowedDrift.length) {
        note(cli, `⚠ Proceeding over drift (--allow-drift): ${allowedDrift.join(', ')}`);
        if (!dryRun) await confirmInProduction(cli, driftChange(cli, allowedDrift));
      }
      if (!plan.length) {
        note(
          cli,
          `✔ Nothing to migrate: ${status.executed.length} applied, none pending in ${migrator.folder.label}/.`,
        );
        return cli.finish(ExitCode.ok, fields());
      }
      cli.soFar = fields;
      // part-way through --step n: the same --step again would count from what is applied now
      const last = plan.at(-1)!.source.name;
      cli.interruptHint = () =>
        result.done.length && !dryRun && opts.step !== undefined
          ? `Applied before it stopped: ${result.done.join(', ')}. \`opsctl migrate --to ${last}\` applies the rest of what was planned (the same --step again would count from what is applied now).`
          : undefined;
      const before = dryRun ? await migrator.schemaObjects() : undefined;
      const errors = await runTasks(migrationTasks(migrator, plan, 'up', result), {}, { renderer: cli.renderer });
      if (errors.length) return cli.fail(errors[0], fields());
      if (before) changes = diffSchema(before, await migrator.schemaObjects());
      const skipped = result.notRun.length
        ? ` (${result.notRun.length} no-transaction migration(s) not executable in a dry run: ${result.notRun.join(', ')})`
        : '';
      note(
        cli,
        dryRun
          ? `✔ Dry run: ${result.done.length} migration(s) ran and were rolled back${skipped}; nothing changed.`
          : `✔ Applied ${result.done.length} migration(s).`,
      );
      if (!cli.json) for (const name of result.done) out(name);
      if (!cli.json && changes) printChanges(changes);
      return cli.finish(ExitCode.ok, fields());
    } catch (error) {
      return cli.fail(error, fields());
    } finally {
      await migrator.close();
    }
  });
}

function driftChange(cli: Cli, names: string[]) {
  return {
    question: `Migrate over drift${names.length ? ` (${names.join(', ')})` : ''} on ${describeTarget(cli.config())}`,
    destructive: true,
    unchanged: 'nothing was migrated',
  };
}

function printChanges(changes: SchemaChanges): void {
  out(`Would change the schema (${changes.created.length} created, ${changes.dropped.length} dropped):`);
  for (const obj of changes.created) out(`  + ${obj}`);
  for (const obj of changes.dropped) out(`  - ${obj}`);
}
