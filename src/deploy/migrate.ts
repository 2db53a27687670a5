import { relative } from 'node:path';
import { findMigrationsFolder } from '../db/migrate/folder.js';
import { openMigrator, readMigrationStatus } from '../db/migrate/migrator.js';
import { planUp, verifyNoDrift } from '../db/migrate/plan.js';
import { prepareMigrations } from '../db/migrate/steps.js';
import { OpsError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import type { StepSpec } from './step.js';
import type { Decision, DeployRun } from './types.js';

/** The package a migrate step is reported under: the one holding the migrations folder, else the first started. */
export function migrationsOwner(run: DeployRun): AppPackage | undefined {
  const folder = findMigrationsFolder(run.deps.config.root, run.deps.config.database.migrations);
  if (!folder) return undefined;
  const owner = run.packages.find(
    (p) => !relative(p.dir, folder.dir).startsWith('..') && p.dir !== run.deps.config.root,
  );
  return owner ?? run.packages.find((p) => p.scripts.start !== undefined) ?? run.packages[0];
}

/** `migrate`: the pending migrations, once, before any backend starts (the migrate command's own engine). */
export function migrateStep(run: DeployRun, owner: AppPackage): StepSpec {
  const { config } = run.deps;
  return {
    step: 'migrate',
    pkg: owner.name,
    async decide(): Promise<Decision> {
      if (run.options.skipMigrate) return { run: false, reason: '--skip-migrate' };
      if (!config.database.url) {
        throw new OpsError('NO_DATABASE', 'There are migrations to check but no database is configured.', {
          hint:
            config.database.source === 'embedded'
              ? 'Start the embedded database (`opsctl db start`), set DATABASE_URL, or pass --skip-migrate.'
              : 'Set database.url or DATABASE_URL, or pass --skip-migrate.',
          exitCode: 4,
        });
      }
      const { status } = await readMigrationStatus(config.root, config.database);
      if (!status.pending.length)
        return { run: false, reason: `no pending migrations (${status.executed.length} applied)` };
      return { run: true, what: `apply ${status.pending.length} pending migration(s): ${status.pending.join(', ')}` };
    },
    async run(task) {
      const migrator = await openMigrator({ root: config.root, database: config.database });
      try {
        const status = migrator.status();
        verifyNoDrift(status, false);
        const plan = planUp(migrator.sources, status, {});
        if (!plan.length) return 'no pending migrations (applied concurrently by someone else)';
        const prepared = await prepareMigrations(plan, 'up');
        const applied: string[] = [];
        for (const migration of prepared) {
          task.output = `applying ${migration.source.name}`;
          await migrator.run('up', migration);
          applied.push(migration.source.name);
        }
        return `applied ${applied.length}: ${applied.join(', ')}`;
      } finally {
        await migrator.close();
      }
    },
  };
}
