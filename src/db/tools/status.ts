import type pg from 'pg';
import type { ResolvedConfig } from '../../config/types.js';
import { connectClient, verifyDatabaseUrl } from '../migrate/connect.js';
import type { MigrationStatus } from '../migrate/plan.js';
import { withTableEvidence } from './detect.js';
import { adapterFor } from './index.js';
import type { ToolChoice } from './types.js';

/** Status from the tool's own state table, read-only (never creates it); the choice comes back with the table's word. */
export async function readToolStatus(
  config: ResolvedConfig,
  choice: ToolChoice,
  connect: (url: string) => Promise<pg.Client> = connectClient,
): Promise<{ choice: ToolChoice; status: MigrationStatus }> {
  const client = await connect(verifyDatabaseUrl(config.database));
  try {
    const seen = await withTableEvidence(client, choice);
    return { choice: seen, status: await adapterFor(choice.tool).readStatus(client, seen) };
  } finally {
    await client.end().catch(() => {});
  }
}
