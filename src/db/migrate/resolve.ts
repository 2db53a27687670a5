import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import type pg from 'pg';
import type { RunnableMigration } from 'umzug';
import { ExitCode, errorMessage, OpsError } from '../../errors.js';
import type { MigrationSource } from './sources.js';
import { describeSqlError, type SqlPart, splitStatements } from './sql.js';
import type { Session } from './state.js';

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
 * or (rolling back) a migration without a down part stops the run with nothing changed.
 */
export async function prepareMigrations(
  sources: MigrationSource[],
  direction: Direction,
): Promise<PreparedMigration[]> {
  const prepared: PreparedMigration[] = [];
  for (const source of sources) prepared.push(await prepareMigration(source));
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
 * umzug's view of a migration. The step opens the migration's transaction and leaves it open: umzug then calls
 * the storage's `logMigration`, which writes the state row in it and commits (see `stateTableStorage`).
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
    (part: SqlPart | undefined, file: string): StepFn =>
    async (session, begin) => {
      // `begin` on a line of its own before the SQL: one round trip, and error positions still map to file lines
      const sent = begin ? { sql: `begin;\n${part?.sql ?? ''}`, line: (part?.line ?? 1) - 1 } : part;
      if (!sent) return;
      try {
        await runSql(session.client, sent, transaction);
      } catch (err) {
        throw failure(source, describeSqlError(err, file, currentPart(err, sent, transaction)), transaction, err);
      }
    };
  return {
    source,
    transaction,
    up: run(source.up, source.path),
    down: source.down ? run(source.down, source.downPath ?? source.path) : undefined,
  };
}

/**
 * A whole section goes to the server as one query (fast, and correct for any SQL). Outside a transaction each
 * statement is sent alone: PostgreSQL wraps a multi-statement query in an implicit transaction, which
 * CREATE INDEX CONCURRENTLY refuses.
 */
async function runSql(client: pg.Client, part: SqlPart, transaction: boolean): Promise<void> {
  if (transaction) {
    await client.query(part.sql);
    return;
  }
  for (const statement of splitStatements(part.sql)) {
    try {
      await client.query(statement.sql);
    } catch (err) {
      throw Object.assign(err as object, { opsctlPart: { sql: statement.sql, line: part.line + statement.line - 1 } });
    }
  }
}

function currentPart(err: unknown, part: SqlPart, transaction: boolean): SqlPart {
  const statement = (err as { opsctlPart?: SqlPart }).opsctlPart;
  return !transaction && statement ? statement : part;
}

async function prepareModule(source: MigrationSource): Promise<PreparedMigration> {
  const mod = await loadModule(source.path);
  const call =
    (fn: MigrationFn): StepFn =>
    async (session, begin) => {
      if (begin) await session.client.query('begin');
      try {
        await fn({ name: source.name, path: source.path, context: { client: session.client } });
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
    mod = /\.[mc]?ts$/.test(path)
      ? ((await (await import('tsx/esm/api')).tsImport(pathToFileURL(path).href, import.meta.url)) as Exports)
      : ((await import(pathToFileURL(path).href)) as Exports);
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
  return new OpsError('MIGRATION_FAILED', `Migration ${source.name} failed: ${what}`, {
    hint: transaction
      ? `It was rolled back, so nothing of ${source.name} is applied; fix it and run again.`
      : `It ran outside a transaction (no-transaction): statements before the failing one stay applied. Check the database, make it safe to re-run, then run again.`,
    exitCode: ExitCode.failed,
    cause,
  });
}
