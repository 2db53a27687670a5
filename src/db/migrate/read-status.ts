import type pg from 'pg';
import type { ResolvedConfig } from '../../config/types.js';
import { connectClient, verifyDatabaseUrl } from './connect.js';
import { type MigrationsFolder, verifyMigrationsFolder } from './folder.js';
import { readMigrationSources } from './sources.js';
import { compareState, type MigrationStatus, readAppliedRows } from './state.js';

/** Read status without the lock and without creating anything (for `migrate status` and doctor). */
export async function readMigrationStatus(
  root: string,
  database: ResolvedConfig['database'],
  connect: (url: string) => Promise<pg.Client> = connectClient,
): Promise<{ folder: MigrationsFolder; status: MigrationStatus }> {
  const folder = verifyMigrationsFolder(root, database.migrations);
  const sources = readMigrationSources(folder.dir, folder.label);
  const client = await connect(verifyDatabaseUrl(database));
  try {
    const rows = await readAppliedRows(client, { schema: database.schema, table: database.table });
    return { folder, status: compareState(sources, rows) };
  } finally {
    await client.end().catch(() => {});
  }
}
