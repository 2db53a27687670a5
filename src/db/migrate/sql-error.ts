import { basename } from 'node:path';
import { errorMessage } from '../../errors.js';
import { columnAt, lineAt, type SqlPart } from './sql-text.js';

interface DatabaseErrorLike {
  message: string;
  position?: string;
  detail?: string;
  hint?: string;
  where?: string;
  code?: string;
}

/**
 * Describe a database error raised while running `part` of `file`: `file:line:column: message`, with the
 * server's detail and hint. The position PostgreSQL reports is an offset into the query; mapped back into the file.
 */
export function describeSqlError(err: unknown, file: string, part: SqlPart | undefined): string {
  const e = err as DatabaseErrorLike;
  let where = basename(file);
  const position = Number(e?.position);
  if (part && Number.isInteger(position) && position > 0) {
    const offset = position - 1;
    where += `:${part.line + lineAt(part.sql, offset) - 1}:${columnAt(part.sql, offset)}`;
  } else if (part) {
    where += `:${part.line}`;
  }
  const extras = [
    e?.detail && `detail: ${e.detail}`,
    e?.hint && `hint: ${e.hint}`,
    e?.where && `context: ${e.where}`,
  ].filter(Boolean);
  const code = e?.code && /^[0-9A-Z]{5}$/.test(e.code) ? ` [${e.code}]` : '';
  return `${where}: ${errorMessage(err)}${code}${extras.length ? ` (${extras.join('; ')})` : ''}`;
}
