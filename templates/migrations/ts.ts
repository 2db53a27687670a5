import type { Client } from 'pg';

/** What opsctl passes to a migration (the umzug convention). */
type Params = { context: { client: Client } };

/**
 * {{name}}
 * Runs in one transaction together with its state row; `export const transaction = false` runs it outside one.
 */
export async function up({ context: { client } }: Params): Promise<void> {
  await client.query('select 1');
}

export async function down({ context: { client } }: Params): Promise<void> {
  await client.query('select 1');
}
