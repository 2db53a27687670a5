import { basename } from 'node:path';
import { errorMessage } from '../../errors.js';

// Hand-written: PostgreSQL has no client-side splitter, and the parts need their file lines for error positions.
/** SQL migration files: `-- up` / `-- down` sections, the no-transaction marker, statement splitting, error positions. */

/** A part of a SQL file, with the 1-based line it starts on so database errors can point into the file. */
export interface SqlPart {
  sql: string;
  /** 1-based line of the file where `sql` starts. */
  line: number;
}

export interface SqlSections {
  up: SqlPart;
  down?: SqlPart;
}

const SECTION = /^--\s*(up|down)\s*$/i;
const NO_TRANSACTION = /^\s*--\s*opsctl:no-transaction\b/im;

/** True when the file asks to run outside a transaction (`-- opsctl:no-transaction`). */
export function hasNoTransactionMarker(sql: string): boolean {
  return NO_TRANSACTION.test(sql);
}

/** Split a single-file migration on its `-- up` / `-- down` lines. A file with neither is all up. */
export function splitSections(text: string): SqlSections {
  const lines = text.split('\n');
  const marks: Array<{ kind: 'up' | 'down'; index: number }> = [];
  lines.forEach((line, index) => {
    const m = SECTION.exec(line.trim());
    if (m) marks.push({ kind: m[1]!.toLowerCase() as 'up' | 'down', index });
  });
  if (!marks.length) return { up: { sql: text, line: 1 } };
  const part = (i: number): SqlPart => {
    const start = marks[i]!.index + 1;
    const end = marks[i + 1]?.index ?? lines.length;
    return { sql: lines.slice(start, end).join('\n'), line: start + 1 };
  };
  const upIndex = marks.findIndex((m) => m.kind === 'up');
  const downIndex = marks.findIndex((m) => m.kind === 'down');
  // text before the first marker (comments, the no-transaction marker) belongs to neither section
  return {
    up: upIndex >= 0 ? part(upIndex) : { sql: '', line: 1 },
    down: downIndex >= 0 ? part(downIndex) : undefined,
  };
}

/**
 * Split SQL into statements on top-level semicolons, respecting quotes (E'' with backslash escapes), dollar quotes,
 * comments and SQL-standard function bodies (`BEGIN ATOMIC ... END`). Used for no-transaction files (PostgreSQL
 * runs a multi-statement query string in one implicit transaction, which CREATE INDEX CONCURRENTLY refuses), to
 * find transaction control, and to place an error the server gave no position for on its statement.
 */
export function splitStatements(sql: string): SqlPart[] {
  const out: SqlPart[] = [];
  let start = 0;
  let i = 0;
  let atomicDepth = 0; // inside BEGIN ATOMIC ... END (CASE ... END nests there)
  // lines counted on from the previous statement, not from the top each time (files can be large)
  let counted = { offset: 0, line: 1 };
  const lineOf = (offset: number) => {
    counted = { offset, line: counted.line + lineAt(sql.slice(counted.offset, offset), offset) - 1 };
    return counted.line;
  };
  const push = (end: number) => {
    const chunk = sql.slice(start, end);
    if (stripComments(chunk).trim()) {
      const lead = chunk.length - chunk.trimStart().length;
      out.push({ sql: chunk.trim(), line: lineOf(start + lead) });
    }
    start = end + 1;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') i = indexOrEnd(sql, '\n', i);
    else if (c === '/' && sql[i + 1] === '*') i = indexOrEnd(sql, '*/', i + 2) + 1;
    else if (c === "'" || c === '"') i = closingQuote(sql, c, i, c === "'" && isEscapeString(sql, i));
    else if (c === '$') {
      const tag = matchAt(DOLLAR_TAG, sql, i);
      if (tag) i = indexOrEnd(sql, tag, i + tag.length) + tag.length - 1;
    } else if (/[A-Za-z_]/.test(c)) {
      const word = matchAt(WORD, sql, i)!;
      const lower = word.toLowerCase();
      if (lower === 'begin' && matchAt(ATOMIC, sql, i + word.length)) atomicDepth++;
      else if (atomicDepth && lower === 'case') atomicDepth++;
      else if (atomicDepth && lower === 'end') atomicDepth--;
      i += word.length - 1;
    } else if (c === ';' && !atomicDepth) push(i);
    i++;
  }
  push(sql.length);
  return out;
}

// sticky: matched at an offset without slicing the text (migration files can be megabytes of seed data)
const DOLLAR_TAG = /\$[A-Za-z_]*\$/y;
const WORD = /[A-Za-z_][A-Za-z0-9_$]*/y;
const ATOMIC = /\s+atomic\b/iy;

function matchAt(pattern: RegExp, text: string, at: number): string | undefined {
  pattern.lastIndex = at;
  return pattern.exec(text)?.[0];
}

/** A quote opening `E'...'`, where a backslash escapes the next character. */
function isEscapeString(sql: string, quoteAt: number): boolean {
  return /[eE]/.test(sql[quoteAt - 1] ?? '') && !/[A-Za-z0-9_$]/.test(sql[quoteAt - 2] ?? '');
}

const TRANSACTION_CONTROL = /^(commit|end|rollback|abort|begin|start\s+transaction|prepare\s+transaction)\b/i;
/** Any word a transaction-control statement starts with, anywhere in the text (a quick test, before splitting). */
const CONTROL_WORD = /\b(commit|end|rollback|abort|begin|start|prepare)\b/i;
const SAVEPOINT_ROLLBACK = /^rollback(\s+(work|transaction))?\s+to\b/i;

/**
 * The first statement that ends or starts a transaction (COMMIT, END, ROLLBACK, ABORT, BEGIN, START TRANSACTION,
 * PREPARE TRANSACTION), with its line in `sql`; savepoints are fine. In a migration that runs in a transaction
 * such a statement would commit part of it without its state row (README, "`opsctl migrate`...").
 */
export function findTransactionControl(sql: string): SqlPart | undefined {
  // most migrations name none of the words: skip splitting them (every pending file is checked before the first runs)
  if (!CONTROL_WORD.test(sql)) return undefined;
  for (const statement of splitStatements(sql)) {
    const lead = leadingCommentLength(statement.sql);
    const text = statement.sql.slice(lead).trim();
    if (TRANSACTION_CONTROL.test(text) && !SAVEPOINT_ROLLBACK.test(text)) {
      return { sql: text.split('\n')[0]!.trim(), line: statement.line + lineAt(statement.sql, lead) - 1 };
    }
  }
  return undefined;
}

/** Length of the comments and whitespace a statement starts with. */
function leadingCommentLength(sql: string): number {
  let i = 0;
  for (;;) {
    while (i < sql.length && /\s/.test(sql[i]!)) i++;
    if (sql.startsWith('--', i)) i = indexOrEnd(sql, '\n', i);
    else if (sql.startsWith('/*', i)) i = indexOrEnd(sql, '*/', i + 2) + 2;
    else return Math.min(i, sql.length);
  }
}

function indexOrEnd(text: string, needle: string, from: number): number {
  const at = text.indexOf(needle, from);
  return at < 0 ? text.length : at;
}

function closingQuote(text: string, quote: string, from: number, backslashEscapes = false): number {
  let i = from + 1;
  while (i < text.length) {
    if (backslashEscapes && text[i] === '\\') i += 2;
    else if (text[i] === quote) {
      if (text[i + 1] === quote) i += 2;
      else return i;
    } else i++;
  }
  return text.length;
}

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

/** 1-based line number of a 0-based offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/** 1-based column of a 0-based offset. */
export function columnAt(text: string, offset: number): number {
  const lastNewline = text.lastIndexOf('\n', offset - 1);
  return offset - lastNewline;
}

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
 * Without a position, the line is the part's (the failing statement's, when the caller knows it); a part with no
 * line in the file (0) names the file alone.
 */
export function describeSqlError(err: unknown, file: string, part: SqlPart | undefined): string {
  const e = err as DatabaseErrorLike;
  let where = basename(file);
  const position = Number(e?.position);
  if (part && Number.isInteger(position) && position > 0) {
    const offset = position - 1;
    where += `:${part.line + lineAt(part.sql, offset) - 1}:${columnAt(part.sql, offset)}`;
  } else if (part && part.line > 0) {
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
