import type { Command } from 'commander';
import { connectClient } from '../src/db/migrate/connect.js';
import { type CreateFormat, createMigration } from '../src/db/migrate/create.js';
import { prepareUp, readMigrationStatus } from '../src/db/migrate/engine.js';
import { verifyUpOptions } from '../src/db/migrate/plan.js';
import { diffSchema, type SchemaChanges } from '../src/db/migrate/snapshot.js';
import { type MigrationRunResult, migrationTasks } from '../src/db/migrate/tasks.js';
import { ExitCode, errorMessage } from '../src/errors.js';
import { runTasks } from '../src/tasks/run.js';
import { runCommand } from './context.js';
import { finishWithError, note, noteFolder, openCliMigrator } from './migrate-shared.js';
import { out } from './output.js';

const CREATE_VERIFY_TIMEOUT_MS = 3_000; // create works offline; the database check is a courtesy

/** `opsctl migrate [up]`: apply pending migrations under the lock, one transaction each. */
export function up(cmd: Command): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const opts = cli.opts as {
      to?: string;
      step?: number;
      dryRun?: boolean;
      allowDrift?: boolean;
      lockTimeout?: number;
    };
    const dryRun = Boolean(opts.dryRun);
    verifyUpOptions({ to: opts.to, step: opts.step });
    const migrator = await openCliMigrator(cli, { lockTimeout: opts.lockTimeout, dryRun });
    const result: MigrationRunResult = { done: [], notRun: [] };
    let changes: SchemaChanges | undefined;
    const fields = () => ({
      applied: result.done,
      ...(dryRun ? { dryRun: true, notRun: result.notRun, changes } : {}),
    });
    try {
      noteFolder(cli, migrator.folder);
      const { status, plan, allowedDrift } = await prepareUp(migrator, {
        to: opts.to,
        step: opts.step,
        allowDrift: opts.allowDrift,
      });
      if (allowedDrift.length) note(cli, `⚠ Proceeding over drift (--allow-drift): ${allowedDrift.join(', ')}`);
      if (!plan.length) {
        note(
          cli,
          `✔ Nothing to migrate: ${status.executed.length} applied, none pending in ${migrator.folder.label}/.`,
        );
        return cli.finish(ExitCode.ok, fields());
      }
      const before = dryRun ? await migrator.schemaObjects() : undefined;
      const errors = await runTasks(migrationTasks(migrator, plan, 'up', result), {}, { renderer: cli.renderer });
      if (errors.length) return finishWithError(cli, errors[0], fields());
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
      return finishWithError(cli, error, fields());
    } finally {
      await migrator.close();
    }
  });
}

function printChanges(changes: SchemaChanges): void {
  out(`Would change the schema (${changes.created.length} created, ${changes.dropped.length} dropped):`);
  for (const obj of changes.created) out(`  + ${obj}`);
  for (const obj of changes.dropped) out(`  - ${obj}`);
}

/** `opsctl migrate create <name> [--sql|--js|--ts]` */
export function create(cmd: Command): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const [name] = cmd.args as [string];
    const opts = cli.opts as { sql?: boolean; js?: boolean; ts?: boolean };
    const format: CreateFormat | undefined = opts.ts ? 'ts' : opts.js ? 'js' : opts.sql ? 'sql' : undefined;
    const created = createMigration({ root: config.root, configuredFolder: config.database.migrations, name, format });
    let pending: boolean | undefined;
    let unverified: string | undefined;
    try {
      const { status } = await readMigrationStatus(config.root, config.database, (url) =>
        connectClient(url, CREATE_VERIFY_TIMEOUT_MS),
      );
      pending = status.pending.includes(created.name);
      const later = status.executed.filter((e) => e.name > created.name).map((e) => e.name);
      if (later.length)
        note(cli, `⚠ ${created.name} sorts before applied ${later.join(', ')}; it will be applied out of order.`);
    } catch (error) {
      unverified = errorMessage(error);
    }
    if (pending === false) note(cli, `✖ ${created.name} was written but does not show as pending.`);
    else
      note(
        cli,
        `✔ Created ${created.name} in ${created.folder}/ (${pending ? 'pending' : `not checked against the database: ${unverified}`})`,
      );
    if (!cli.json) for (const file of created.files) out(file);
    return cli.finish(pending === false ? ExitCode.failed : ExitCode.ok, { ...created, pending: pending ?? null });
  });
}
