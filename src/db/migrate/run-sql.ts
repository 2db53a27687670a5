import pg from 'pg';
import { watchQuery } from './session.js';
import { findTransactionControl, type SqlPart, splitStatements } from './sql.js';

// Hand-written over pg's own Query: pg reports no statement count for a failed multi-statement query, which an
// error without a position needs to be placed on its line.

/** pg's simple query, counting the statements the server completed before an error. */
class CountingQuery extends (pg.Query as unknown as new (
  text: string,
  callback: (err: Error | undefined) => void,
) => { handleCommandComplete(msg: unknown, connection: unknown): void }) {
  completed = 0;
  override handleCommandComplete(msg: unknown, connection: unknown): void {
    this.completed++;
    super.handleCommandComplete(msg, connection);
  }
}

/** Send `sql` as one simple query (one round trip); a failure carries how many of its statements completed first. */
function simpleQuery(client: pg.Client, sql: string): Promise<void> {
  const pending = new Promise<void>((resolve, reject) => {
    const query: CountingQuery = new CountingQuery(sql, (err) =>
      err ? reject(Object.assign(err, { completedStatements: query.completed })) : resolve(),
    );
    client.query(query as unknown as pg.Submittable);
  });
  // a submittable bypasses the session's query wrapper: watch it here, so a lock wait names its holder
  return watchQuery(client, pending);
}

/** What surrounds a section when it is sent: `begin` before it, the state row and `commit` after it. */
export interface Envelope {
  /** Open the migration's transaction in the same query. */
  begin: boolean;
  /** Statements run after the section in the same query (the state row and `commit`). */
  after?: string;
}

/**
 * Run a section of a SQL file. In a transaction it goes to the server as one query, wrapped in `envelope`: one
 * round trip for the migration, its state row and its commit. Outside one each statement is sent alone:
 * PostgreSQL wraps a multi-statement query in an implicit transaction, which CREATE INDEX CONCURRENTLY refuses.
 * A failure carries `opsctlPart`, the piece of the file its error points into (for `describeSqlError`).
 */
export async function runSqlSection(
  client: pg.Client,
  part: SqlPart,
  transaction: boolean,
  envelope: Envelope = { begin: false },
): Promise<void> {
  if (!transaction) {
    for (const statement of splitStatements(part.sql)) {
      try {
        await client.query(statement.sql);
      } catch (err) {
        throw Object.assign(err as object, {
          opsctlPart: { sql: statement.sql, line: part.line + statement.line - 1 },
        });
      }
    }
    return;
  }
  // `begin` on a line of its own before the section, so positions still map to file lines; the section's last
  // statement may lack its semicolon or end in a comment, hence the newline and semicolon after it
  const prefix = envelope.begin ? 'begin;\n' : '';
  const suffix = envelope.after ? `\n;\n${envelope.after}` : '';
  try {
    await simpleQuery(client, `${prefix}${part.sql}${suffix}`);
  } catch (err) {
    throw Object.assign(err as object, { opsctlPart: failedPart(err, part, prefix) });
  }
}

/**
 * The piece of the file an error points into. With a position: the section as sent (mapped back by line). Without
 * one: the statement the server was running, counted from the statements it completed. An error in the envelope
 * (the state row, the commit) points at no line.
 */
function failedPart(err: unknown, part: SqlPart, prefix: string): SqlPart {
  const e = err as { position?: string; completedStatements?: number };
  const position = Number(e.position);
  if (Number.isInteger(position) && position > 0) {
    const offset = position - 1 - prefix.length;
    // the prefix is one line: positions in the query map to file lines from the line before the section
    if (offset >= 0 && offset < part.sql.length)
      return { sql: `${prefix}${part.sql}`, line: part.line - (prefix ? 1 : 0) };
    return { sql: part.sql, line: 0 };
  }
  const index = (e.completedStatements ?? 0) - (prefix ? 1 : 0);
  const statement = splitStatements(part.sql)[index];
  return statement ? { sql: statement.sql, line: part.line + statement.line - 1 } : { sql: part.sql, line: 0 };
}

/**
 * The client a JS/TS migration that runs in a transaction receives: `query` refuses a statement that would end or
 * start the transaction (before sending it), so what the report says was rolled back really was.
 */
export function withoutTransactionControl(
  client: pg.Client,
  why = 'opsctl runs this migration in (it commits it with its state row); to manage transactions yourself, export const transaction = false (SQL files: -- opsctl:no-transaction)',
): pg.Client {
  const query = (...args: unknown[]) => {
    const [config] = args;
    const text = typeof config === 'string' ? config : (config as { text?: unknown } | undefined)?.text;
    const control = typeof text === 'string' ? findTransactionControl(text) : undefined;
    if (!control) return (client.query as (...a: unknown[]) => unknown)(...args);
    const error = new Error(`client.query("${control.sql}") would end or start the transaction ${why}.`);
    const callback = args.at(-1);
    if (typeof callback === 'function') {
      process.nextTick(callback as (err: Error) => void, error);
      return undefined;
    }
    return Promise.reject(error);
  };
  return new Proxy(client, {
    get(target, prop) {
      if (prop === 'query') return query;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
