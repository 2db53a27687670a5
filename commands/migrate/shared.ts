import { relative } from 'node:path';
import { openMigrator } from '../../src/db/migrate/engine.js';
import { describeHolder, type LockHolder } from '../../src/db/migrate/lock.js';
import { describeFolderChoice, type MigrationsFolder } from '../../src/db/migrate/sources.js';
import { describeTarget } from '../../src/db/target-label.js';
import type { ToolChoice } from '../../src/db/tools/types.js';
import { confirmChange, verifyConfirmable } from '../shared/confirm-change.js';
import type { Cli } from '../shared/context.js';
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
export function describeCliTarget(cli: Cli): string {
  return describeTarget(cli.config());
}

/**
 * Ask before a migration verb changes the database (README, "Confirmations"): `question` names what changes and
 * where; `--yes` says it on stderr; under `--env production` the environment's name must be typed (or `--yes --env
 * production` given); without a terminal, exit 2. A no is exit 130 saying `unchanged`. Nothing is asked under
 * --dry-run.
 */
export async function verifyConfirmed(cli: Cli, question: string, unchanged: string): Promise<void> {
  if (cli.opts.dryRun) return;
  await confirmChange(cli, {
    question: question.replace(/\?$/, ''),
    destructive: true,
    unchanged: unchanged.replace(/\.$/, ''),
    alternative: '--dry-run to see what would change',
  });
}

/** Refuse before connecting when the change could not be confirmed (no terminal, no --yes). */
export function verifyCanConfirm(cli: Cli, question: string): void {
  if (!cli.opts.dryRun)
    verifyConfirmable(cli, { question, destructive: true, alternative: '--dry-run to see what would change' });
}
