import { relative } from 'node:path';
import { openMigrator } from '../../src/db/migrate/engine.js';
import { describeHolder, type LockHolder } from '../../src/db/migrate/lock.js';
import { describeFolderChoice, type MigrationsFolder } from '../../src/db/migrate/sources.js';
import { parsePgTarget } from '../../src/db/pg-target.js';
import type { ToolChoice } from '../../src/db/tools/types.js';
import { ExitCode, OpsError, usageError } from '../../src/errors.js';
import { confirm } from '../shared/confirm.js';
import { type Cli, canPrompt } from '../shared/context.js';
import { err } from '../shared/output.js';

/** Helpers shared by `migrate` and `rollback`: notes to stderr, the migrator. */

/** A line on stderr for people (nothing under --json). */
export function note(cli: Cli, text: string): void {
  if (!cli.json) err(text);
}

export function noteFolder(cli: Cli, folder: MigrationsFolder): void {
  const choice = describeFolderChoice(folder);
  if (choice) note(cli, `⚠ ${choice}`);
}

export function lockWaitNote(cli: Cli): (holder: LockHolder | undefined) => void {
  return (holder) => note(cli, `… waiting for the migration lock, held by ${describeHolder(holder)}`);
}

/** The migrator for this app's database, saying on stderr when it waits for another runner's lock. */
export function openCliMigrator(cli: Cli, options: { lockTimeout?: number; dryRun: boolean }) {
  const config = cli.config();
  return openMigrator({
    root: config.root,
    database: config.database,
    lockTimeoutMs: options.lockTimeout,
    onLockWait: lockWaitNote(cli),
    dryRun: options.dryRun,
  });
}

/** `Migrations run by sequelize-cli for backend (backend/): sequelize-cli in dependencies; .sequelizerc` */
export function describeChoice(root: string, choice: ToolChoice): string {
  return `Migrations run by ${choice.tool} for ${choice.pkg} (${relative(root, choice.dir) || '.'}/): ${choice.reasons.join('; ')}`;
}

/** `app@db.internal:5432/shop (production)`: the database a command changes, never its password. */
export function describeTarget(cli: Cli): string {
  const config = cli.config();
  const target = config.database.url ? parsePgTarget(config.database.url) : undefined;
  const where = target ? `${target.user}@${target.host}:${target.port}/${target.database}` : 'the database';
  return config.envName ? `${where} (${config.envName})` : where;
}

/**
 * Ask before changing the database: on a terminal, `question` (which names what changes and where); with `--yes`
 * the same words as a log line on stderr; in CI or without a TTY, exit 2 asking for --yes. A no is exit 130 saying
 * nothing changed. Nothing is asked under --dry-run.
 */
export async function verifyConfirmed(cli: Cli, question: string, nothingDone: string): Promise<void> {
  if (cli.opts.dryRun) return;
  if (cli.opts.yes) {
    note(cli, `→ ${question.replace(/\?$/, '')} (--yes)`);
    return;
  }
  if (!canPrompt())
    throw usageError(
      `${cli.name} needs confirmation, and this session cannot ask (no TTY, CI is set, or a pipeline step).`,
      'Pass --yes to confirm, or --dry-run to see what would change.',
    );
  if (!(await confirm(question)))
    throw new OpsError('CANCELLED', `Cancelled; ${nothingDone}`, { exitCode: ExitCode.interrupted });
}
