import type pg from 'pg';
import { quoteTable, tableExists } from './state.js';

/** `select <columns> from <table> <rest>`, or no rows when the table does not exist (the tool has run nothing). */
export async function readRows<R extends pg.QueryResultRow>(
  client: pg.Client,
  table: string,
  columns: string,
  rest = '',
): Promise<R[]> {
  if (!(await tableExists(client, table))) return [];
  return (await client.query<R>(`select ${columns} from ${quoteTable(table)} ${rest}`)).rows;
}

/** An ISO time for `appliedAt` ('' when the tool records none). */
export function isoTime(value: Date | string | null | undefined): string {
  if (!value) return '';
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString();
}
