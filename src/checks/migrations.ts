import { connectClient } from '../db/migrate/connect.js';
import { readMigrationStatus } from '../db/migrate/engine.js';
import type { MigrationStatus } from '../db/migrate/plan.js';
import { CANDIDATE_FOLDERS, findMigrationsFolder } from '../db/migrate/sources.js';
import { detectTool } from '../db/tools/detect.js';
import { readToolStatus } from '../db/tools/status.js';
import type { ToolChoice } from '../db/tools/types.js';
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
    // every wait ends before the check's time is up, so the check says what held it, not just "timed out"
    const budgetMs = () => Math.max(1, ctx.timeoutMs - (performance.now() - started) - ANSWER_MARGIN_MS);
    const connect = (url: string) =>
      connectClient(url, {
        connectTimeoutMs: budgetMs(),
        lockTimeoutMs: budgetMs(),
        // a little longer than the lock wait: a statement waiting for a lock must fail as a lock wait
        statementTimeoutMs: budgetMs() + LOCK_FIRST_MS,
        signal: ctx.signal,
      });
    let choice: ToolChoice | undefined;
    try {
      choice = detectTool(config);
    } catch (err) {
      return { status: 'fail', message: errorMessage(err), hint: isOpsError(err) ? err.hint : undefined };
    }
    if (choice) {
      const tool = choice.tool;
      if (!choice.table) return { status: 'skip', message: `${tool} (${choice.pkg}): opsctl cannot read its state` };
      const where = `${tool}, ${choice.table}`;
      return judge(() => readToolStatus(config, choice, connect).then((r) => r.status), where);
    }
    let found: ReturnType<typeof findMigrationsFolder>;
    try {
      found = findMigrationsFolder(config.root, config.database.migrations);
    } catch (err) {
      return { status: 'fail', message: errorMessage(err), hint: isOpsError(err) ? err.hint : undefined };
    }
    if (!found) return { status: 'skip', message: `no migrations folder (${CANDIDATE_FOLDERS.join(', ')})` };
    return judge(
      async () => (await readMigrationStatus(config.root, config.database, connect)).status,
      `${found.label}/`,
    );
  },
};

/** Read the status and grade it: fail on drifted or missing, warn on pending, skip when the database is away. */
async function judge(read: () => Promise<MigrationStatus>, where: string): Promise<CheckResult> {
  let status: MigrationStatus;
  try {
    status = await read();
  } catch (err) {
    // an unreachable database or an unusable URL is the postgres check's finding; a broken folder is ours
    if (isOpsError(err) && (err.exitCode === ExitCode.unreachable || err.code === 'DB_URL'))
      return { status: 'skip', message: `database not reachable: ${err.message}`, hint: err.hint };
    return { status: 'fail', message: errorMessage(err), hint: isOpsError(err) ? err.hint : undefined };
  }
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
      message: `${status.pending.length} pending in ${where}: ${list(status.pending)}`,
      hint: 'Apply them with `opsctl migrate` (or `opsctl migrate --dry-run` first).',
    };
  }
  return { status: 'pass', message: `${status.executed.length} applied, none pending (${where})` };
}
