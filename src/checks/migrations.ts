import { connectClient } from '../db/migrate/connect.js';
import { readMigrationStatus } from '../db/migrate/engine.js';
import { CANDIDATE_FOLDERS, findMigrationsFolder } from '../db/migrate/sources.js';
import { ExitCode, errorMessage, isOpsError } from '../errors.js';
import type { Check, CheckResult } from './types.js';

const MAX_NAMES = 5;
/** Time kept back from the check's budget to connect, look up a lock holder and answer. */
const ANSWER_MARGIN_MS = 250;
const LOCK_FIRST_MS = 100;

function list(names: string[]): string {
  return names.length > MAX_NAMES ? `${names.slice(0, MAX_NAMES).join(', ')}, … (${names.length})` : names.join(', ');
}

/** doctor `migrations`: warn on pending, fail on drifted or missing, skip without a folder or a reachable database. */
export const migrationsCheck: Check = {
  id: 'migrations',
  async run(ctx): Promise<CheckResult> {
    const started = performance.now();
    const { config } = ctx;
    let found: ReturnType<typeof findMigrationsFolder>;
    try {
      found = findMigrationsFolder(config.root, config.database.migrations);
    } catch (err) {
      return { status: 'fail', message: errorMessage(err), hint: isOpsError(err) ? err.hint : undefined };
    }
    if (!found) return { status: 'skip', message: `no migrations folder (${CANDIDATE_FOLDERS.join(', ')})` };
    let result: Awaited<ReturnType<typeof readMigrationStatus>>;
    try {
      // every wait ends before the check's time is up, so the check says what held it, not just "timed out"
      const budgetMs = () => Math.max(1, ctx.timeoutMs - (performance.now() - started) - ANSWER_MARGIN_MS);
      result = await readMigrationStatus(config.root, config.database, (url) =>
        connectClient(url, {
          connectTimeoutMs: budgetMs(),
          lockTimeoutMs: budgetMs(),
          // a little longer than the lock wait: a statement waiting for a lock must fail as a lock wait
          statementTimeoutMs: budgetMs() + LOCK_FIRST_MS,
          signal: ctx.signal,
        }),
      );
    } catch (err) {
      // an unreachable database or an unusable URL is the postgres check's finding; a broken folder is ours
      if (isOpsError(err) && (err.exitCode === ExitCode.unreachable || err.code === 'DB_URL'))
        return { status: 'skip', message: `database not reachable: ${err.message}`, hint: err.hint };
      return { status: 'fail', message: errorMessage(err), hint: isOpsError(err) ? err.hint : undefined };
    }
    const { status, folder } = result;
    if (status.drifted.length || status.missing.length) {
      const parts = [
        status.drifted.length ? `drifted (changed after being applied): ${list(status.drifted)}` : '',
        status.missing.length ? `missing (applied, file gone): ${list(status.missing)}` : '',
      ].filter(Boolean);
      return {
        status: 'fail',
        message: parts.join('; '),
        hint: 'Restore the applied files from version control; put changes in a new migration. `opsctl migrate status` lists them.',
      };
    }
    if (status.pending.length) {
      return {
        status: 'warn',
        message: `${status.pending.length} pending in ${folder.label}/: ${list(status.pending)}`,
        hint: 'Apply them with `opsctl migrate` (or `opsctl migrate --dry-run` first).',
      };
    }
    return { status: 'pass', message: `${status.executed.length} applied, none pending (${folder.label}/)` };
  },
};
