import { basename } from 'node:path';
import type pg from 'pg';
import type { RunnableMigration } from 'umzug';
import { errorMessage, OpsError } from '../../errors.js';
import { loadMigrationModule, type MigrationStep } from './load-module.js';
import type { Session } from './session-types.js';
import type { MigrationSource } from './sources.js';
import { describeSqlError } from './sql-error.js';
import { type SqlPart, splitStatements } from './sql-text.js';

export type Direction = 'up' | 'down';

type StepFn = (session: Session, begin: boolean) => Promise<void>;

/** A migration ready to run: its source, and for modules the loaded functions. */
export interface PreparedMigration {
  source: MigrationSource;
  /** False for `-- opsctl:no-transaction` / `export const transaction = false`. */
  transaction: boolean;
  /** Run a direction; with `begin`, the step also opens the transaction (in the same round trip, for SQL). */
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
  for (const source of sources) {
    prepared.push(source.kind === 'sql' ? prepareSql(source) : await prepareModule(source));
  }
  if (direction === 'down') {
    const withoutDown = prepared.filter((p) => !p.down).map((p) => p.source.name);
    if (withoutDown.length) {
      throw new OpsError('MIGRATION_NO_DOWN', `Cannot roll back ${withoutDown.join(', ')}: no down part.`, {
        hint: 'Add a down part (a `-- down` section, a .down.sql file or a `down` export), or roll back fewer (--step/--to). Nothing was reverted.',
        exitCode: 3,
      });
    }
  }
  return prepared;
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

async function prepareModule(source: MigrationSource): Promise<PreparedMigration> {
  const mod = await loadMigrationModule(source.path);
  const call =
    (fn: MigrationStep): StepFn =>
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
    exitCode: 3,
    cause,
  });
}

/** The umzug view of a prepared migration: each step opens its transaction; the storage commits it with the row. */
export function toRunnable(p: PreparedMigration): RunnableMigration<Session> {
  const step =
    (fn: StepFn) =>
    async ({ context }: { context: Session }) => {
      const own = p.transaction && !context.dryRun;
      context.current = {
        name: p.source.name,
        checksum: p.source.checksum,
        startedAt: performance.now(),
        transaction: own,
      };
      if (context.dryRun && !p.transaction) {
        context.notRun.push(p.source.name);
        return;
      }
      try {
        await fn(context, own);
      } catch (err) {
        if (own) await context.client.query('rollback').catch(() => {});
        context.current = undefined;
        throw err;
      }
    };
  return { name: p.source.name, path: p.source.path, up: step(p.up), down: p.down ? step(p.down) : undefined };
}
