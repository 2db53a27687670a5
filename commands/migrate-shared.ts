import { createInterface } from 'node:readline/promises';
import { openMigrator } from '../src/db/migrate/engine.js';
import { describeHolder, type LockHolder } from '../src/db/migrate/lock.js';
import { describeFolderChoice, type MigrationsFolder } from '../src/db/migrate/sources.js';
import { isOpsError, OpsError } from '../src/errors.js';
import type { Cli } from './context.js';
import { err, reportError } from './output.js';

/** Helpers shared by `migrate` and `rollback`: flags, notes to stderr, failure reporting, confirmation. */

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

/** Report a failure that happened part-way: the error on stderr, and under --json the fields so far plus the error. */
export function finishWithError(cli: Cli, error: unknown, fields: Record<string, unknown>): number {
  const exitCode = reportError(error, { debug: cli.debug, json: false, command: cli.name });
  const ops = isOpsError(error);
  const message = error instanceof Error ? error.message : String(error);
  return cli.finish(exitCode, {
    ...fields,
    error: { code: ops ? error.code : 'UNEXPECTED', message, hint: ops ? error.hint : undefined },
  });
}

/** Ask a yes/no question on stderr; Ctrl-C is exit 130. Only call when `canPrompt()` (streams injectable for tests). */
export async function confirm(
  question: string,
  streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream } = {
    input: process.stdin,
    output: process.stderr,
  },
): Promise<boolean> {
  const rl = createInterface(streams);
  try {
    const answer = await new Promise<string>((resolve, reject) => {
      rl.on('SIGINT', () => reject(new OpsError('INTERRUPTED', 'Cancelled.', { exitCode: 130 })));
      rl.on('close', () => resolve(''));
      rl.question(`${question} (y/N) `).then(resolve, reject);
    });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
