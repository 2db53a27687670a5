import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import type { RunnableMigration } from 'umzug';
import { ExitCode, errorMessage, isOpsError, OpsError } from '../../errors.js';
import { withModuleOutputOnStderr } from './module-output.js';
import { runSqlSection, withoutTransactionControl } from './run-sql.js';
import type { MigrationSource } from './sources.js';
import { describeSqlError, findTransactionControl, type SqlPart } from './sql.js';
import { type Session, stateRowStatement } from './state.js';

export type Direction = 'up' | 'down';

/** A migration function as umzug calls it; migrations receive `{ context: { client } }` (README, "Commands"). */
type MigrationFn = (params: { name: string; path?: string; context: { client: pg.Client } }) => Promise<unknown>;

/** Run one direction on the session's client; with `begin`, also open the transaction (one round trip for SQL). */
type StepFn = (session: Session, begin: boolean) => Promise<void>;

/** A migration ready to run: its source, and for modules the loaded functions. */
export interface PreparedMigration {
  source: MigrationSource;
  /** False for `-- opsctl:no-transaction` / `export const transaction = false`. */
  transaction: boolean;
  up: StepFn;
  down?: StepFn;
}

/**
 * Load and check every migration of a plan before anything runs, so a module that fails to import, lacks `up`,
 * SQL that would end its own transaction, or (rolling back) a migration without a down part stops the run with
 * nothing changed.
 */
export async function prepareMigrations(
  sources: MigrationSource[],
  direction: Direction,
): Promise<PreparedMigration[]> {
  const prepared: PreparedMigration[] = [];
  for (const source of sources) {
    prepared.push(await prepareMigration(source));
    if (source.kind === 'sql' && source.transaction !== false) verifyNoTransactionControl(source, direction);
  }
  const withoutDown = direction === 'down' ? prepared.filter((p) => !p.down).map((p) => p.source.name) : [];
  if (withoutDown.length) throw noDownError(withoutDown);
  return prepared;
}

function noDownError(names: string[]): OpsError {
  return new OpsError('MIGRATION_NO_DOWN', `Cannot roll back ${names.join(', ')}: no down part.`, {
    hint: 'Add a down part (a `-- down` section, a .down.sql file or a `down` export), or roll back fewer (--step/--to). Nothing was reverted.',
    exitCode: ExitCode.failed,
  });
}

/** A SQL migration is ready as read; a module is imported and checked. */
export async function prepareMigration(source: MigrationSource): Promise<PreparedMigration> {
  return source.kind === 'sql' ? prepareSql(source) : await prepareModule(source);
}

/**
 * umzug's view of a migration. A plain SQL step sends `begin`, its SQL, its state row and `commit` as one query
 * and marks itself logged; a module's step opens the migration's transaction and leaves it open, and umzug's
 * call to the storage's `logMigration` writes the state row in it and commits (see `stateTableStorage`).
 */
export function toRunnable(
  source: MigrationSource,
  prepare: (source: MigrationSource) => Promise<PreparedMigration>,
): RunnableMigration<Session> {
  const step =
    (direction: Direction) =>
    async ({ context }: { context: Session }) => {
      const p = await prepare(source);
      const run = p[direction];
      // checked for the whole plan before anything ran (prepareMigrations); never unlog a migration left in place
      if (!run) throw noDownError([source.name]);
      const own = p.transaction && !context.dryRun;
      context.current = {
        name: source.name,
        checksum: source.checksum,
        startedAt: performance.now(),
        transaction: own,
      };
      if (context.dryRun && !p.transaction) {
        context.notRun.push(source.name);
        return;
      }
      try {
        await run(context, own);
      } catch (err) {
        if (own) await context.client.query('rollback').catch(() => {});
        context.current = undefined;
        throw err;
      }
    };
  return { name: source.name, path: source.path, up: step('up'), down: step('down') };
}

function prepareSql(source: MigrationSource): PreparedMigration {
  const transaction = source.transaction !== false;
  const run =
    (direction: Direction, part: SqlPart | undefined, file: string): StepFn =>
    async (session, begin) => {
      const step = session.current;
      // owning the transaction: the SQL, the state row and the commit in one query (one round trip)
      const after =
        begin && step ? `${stateRowStatement(session, direction, step.name, step.checksum)};\ncommit` : undefined;
      const sql = part ?? { sql: '', line: 1 };
      try {
        await runSqlSection(session.client, sql, transaction, { begin, after });
        if (after) step!.logged = true;
      } catch (err) {
        const located = (err as { opsctlPart?: SqlPart }).opsctlPart;
        throw failure(source, describeSqlError(err, file, located ?? sql), transaction, err);
      }
    };
  return {
    source,
    transaction,
    up: run('up', source.up, source.path),
    down: source.down ? run('down', source.down, source.downPath ?? source.path) : undefined,
  };
}

/** A SQL migration run in a transaction must not end or start one itself: refused before anything runs. */
function verifyNoTransactionControl(source: MigrationSource, direction: Direction): void {
  const part = direction === 'up' ? source.up : source.down;
  const file = direction === 'up' ? source.path : (source.downPath ?? source.path);
  const control = part && findTransactionControl(part.sql);
  if (!control) return;
  throw new OpsError(
    'MIGRATION_INVALID',
    `${basename(file)}:${part.line + control.line - 1}: ${control.sql} inside a migration that runs in a transaction: it would commit part of ${source.name} without its state row.`,
    {
      hint: 'Remove it (opsctl commits each migration together with its state row), or put `-- opsctl:no-transaction` on a line of its own to run the file statement by statement outside a transaction. Nothing was applied.',
      exitCode: ExitCode.failed,
    },
  );
}

async function prepareModule(source: MigrationSource): Promise<PreparedMigration> {
  const mod = await loadModule(source.path);
  const call =
    (fn: MigrationFn): StepFn =>
    async (session, begin) => {
      if (begin) await session.client.query('begin');
      const client = mod.transaction ? withoutTransactionControl(session.client) : session.client;
      try {
        await withModuleOutputOnStderr(() => fn({ name: source.name, path: source.path, context: { client } }));
      } catch (err) {
        throw failure(source, `${basename(source.path)}: ${describeModuleError(err)}`, mod.transaction, err);
      }
    };
  return { source, transaction: mod.transaction, up: call(mod.up), down: mod.down ? call(mod.down) : undefined };
}

type Exports = { up?: unknown; down?: unknown; transaction?: unknown; default?: unknown };

/** Import a `.js`/`.cjs`/`.mjs` module, or a `.ts` one through tsx (no build step), and check its exports. */
async function loadModule(path: string): Promise<{ up: MigrationFn; down?: MigrationFn; transaction: boolean }> {
  let mod: Exports;
  try {
    // top-level code of the module runs here: its output is kept off stdout too
    mod = await withModuleOutputOnStderr(async () =>
      /\.[mc]?ts$/.test(path)
        ? ((await (await import('tsx/esm/api')).tsImport(pathToFileURL(path).href, import.meta.url)) as Exports)
        : ((await import(pathToFileURL(path).href)) as Exports),
    );
  } catch (err) {
    throw new OpsError('MIGRATION_LOAD', `${basename(path)} could not be loaded: ${errorMessage(err)}`, {
      hint: 'Fix the module so it can be imported (run it with `node` to see the full error); nothing was applied.',
      exitCode: ExitCode.failed,
      cause: err,
    });
  }
  // CommonJS modules arrive as `default` when imported from ESM
  const exports = (typeof mod.up === 'function' ? mod : ((mod.default as Exports | undefined) ?? mod)) as Exports;
  const invalid = (message: string, hint: string) =>
    new OpsError('MIGRATION_INVALID', `${basename(path)} ${message}`, { hint, exitCode: ExitCode.failed });
  if (typeof exports.up !== 'function') {
    throw invalid(
      'does not export an `up` function.',
      'Export `async function up({ context: { client } })` (and `down`); nothing was applied.',
    );
  }
  if (exports.down !== undefined && typeof exports.down !== 'function') {
    throw invalid(
      'exports `down`, but it is not a function.',
      'Export `async function down({ context: { client } })`, or remove it.',
    );
  }
  return {
    up: exports.up as MigrationFn,
    down: exports.down as MigrationFn | undefined,
    transaction: (exports.transaction ?? mod.transaction) !== false,
  };
}

function describeModuleError(err: unknown): string {
  const e = err as { detail?: string; code?: string };
  const code = e?.code && /^[0-9A-Z]{5}$/.test(e.code) ? ` [${e.code}]` : '';
  return `${errorMessage(err)}${code}${e?.detail ? ` (detail: ${e.detail})` : ''}`;
}

function failure(source: MigrationSource, what: string, transaction: boolean, cause: unknown): OpsError {
  const undone = transaction
    ? `It was rolled back, so nothing of ${source.name} is applied`
    : 'It ran outside a transaction (no-transaction): statements before the failing one stay applied';
  // a bound of the session (a lock held past --lock-timeout: exit 5; a statement limit: exit 4) keeps its code
  if (isOpsError(cause) && (cause.code === 'DB_LOCK_TIMEOUT' || cause.code === 'DB_STATEMENT_TIMEOUT')) {
    return new OpsError(cause.code, `Migration ${source.name} failed: ${cause.message}`, {
      hint: `${undone}. ${cause.hint ?? ''}`.trim(),
      exitCode: cause.exitCode,
      cause,
    });
  }
  return new OpsError('MIGRATION_FAILED', `Migration ${source.name} failed: ${what}`, {
    hint: transaction
      ? `${undone}; fix it and run again.`
      : `${undone}. Check the database, make it safe to re-run, then run again.`,
    exitCode: ExitCode.failed,
    cause,
  });
}
