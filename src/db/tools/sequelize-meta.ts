import type pg from 'pg';
import type { MigrationStatus } from '../migrate/plan.js';
import { moduleFiles, quoteTable, statusFromNames, tableExists } from './state.js';
import type { ToolChoice } from './types.js';

/**
 * Status from a `SequelizeMeta` table (sequelize-cli's and umzug's SequelizeStorage): one `name` column holding the
 * file name with its extension (`20250820085214-create-user-table.js`), no time, no checksum. A missing table means
 * nothing was executed; it is never created here.
 */
export async function readSequelizeMeta(client: pg.Client, choice: ToolChoice): Promise<MigrationStatus> {
  const files = moduleFiles(choice.migrationsDir);
  if (!(await tableExists(client, choice.table))) return statusFromNames(files, []);
  const { rows } = await client.query<{ name: string }>(`select name from ${quoteTable(choice.table)}`);
  return statusFromNames(files, rows);
}

/** `YYYYMMDDHHMMSS` in UTC, the prefix sequelize-cli gives new migrations. */
export function sequelizeTimestamp(date = new Date()): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
