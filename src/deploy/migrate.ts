import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { openMigrator, prepareUp, readMigrationStatus } from '../db/migrate/engine.js';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../db/migrate/lock.js';
import { findMigrationsFolder } from '../db/migrate/sources.js';
import { detectTool } from '../db/tools/detect.js';
import { adapterFor } from '../db/tools/index.js';
import { runTool } from '../db/tools/run.js';
import { readToolStatus } from '../db/tools/status.js';
import type { ToolChoice } from '../db/tools/types.js';
import { ExitCode, OpsError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import { startCommand } from '../pm2/ecosystem.js';
import type { StepSpec } from './step.js';
import type { Decision, DeployRun } from './types.js';

/**
 * The package a migrate step is reported under: the selected package holding the migrations folder; for a folder
 * outside every package, the first package this deploy starts. None (no migrate step) when the folder belongs to a
 * package that is not being deployed, or nothing is started: deploying only a library leaves the database alone.
 */
export function migrationsOwner(run: DeployRun): AppPackage | undefined {
  const { root, database } = run.deps.config;
  const choice = detectTool(run.deps.config);
  if (choice) return run.packages.find((p) => p.name === choice.pkg);
  const folder = findMigrationsFolder(root, database.migrations);
  if (!folder) return undefined;
  const inside = (dir: string) => !relative(dir, folder.dir).startsWith('..');
  const owner = run.packages.find((p) => p.dir !== root && inside(p.dir));
  if (owner) return owner;
  const holder = nearestPackageDir(folder.dir, root);
  if (holder && holder !== root) return undefined;
  return run.packages.find((p) => startCommand(p) !== undefined);
}

/** The closest folder at or above `dir` (and below `root`) holding a package.json. */
function nearestPackageDir(dir: string, root: string): string | undefined {
  for (let d = dir; !relative(root, d).startsWith('..'); d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return d;
    if (d === root) break;
  }
  return undefined;
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
          exitCode: ExitCode.unreachable,
        });
      }
      const choice = detectTool(config);
      const { status } = choice
        ? await readToolStatus(config, choice)
        : await readMigrationStatus(config.root, config.database);
      if (choice && !choice.table) return { run: true, what: `run ${choice.pkg}'s "migrate" script (${choice.tool})` };
      if (!status.pending.length)
        return { run: false, reason: `no pending migrations (${status.executed.length} applied)` };
      return { run: true, what: `apply ${status.pending.length} pending migration(s): ${status.pending.join(', ')}` };
    },
    async run(task) {
      const choice = detectTool(config);
      if (choice) return runThroughTool(config, choice, (line) => (task.output = line), run.signal);
      const migrator = await openMigrator({ root: config.root, database: config.database });
      try {
        const { plan } = await prepareUp(migrator, {});
        if (!plan.length) return 'no pending migrations (applied concurrently by someone else)';
        const applied = await migrator.run('up', plan, { started: (name) => (task.output = `applying ${name}`) });
        return `applied ${applied.length}: ${applied.join(', ')}`;
      } finally {
        await migrator.close();
      }
    },
  };
}

/** The app's own tool runs the step (README, "Apps with their own migration tool"); its output is the task's log. */
async function runThroughTool(
  config: DeployRun['deps']['config'],
  choice: ToolChoice,
  onLine: (line: string) => void,
  signal: AbortSignal | undefined,
): Promise<string> {
  const adapter = adapterFor(choice.tool);
  const result = await runTool({
    config,
    adapter,
    choice,
    action: { kind: 'up' },
    lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
    onLine,
    // an interrupt ends the tool and its sessions (README, "Apps with their own migration tool")
    ...(signal ? { deferSignals: () => signal } : {}),
  });
  if (result.error) throw result.error;
  if (result.nothingToDo) return `no pending migrations (applied concurrently by someone else)`;
  if (result.stateless) return `${choice.tool}: "migrate" script succeeded`;
  return `applied ${result.applied.length} with ${choice.tool}: ${result.applied.join(', ')}`;
}
