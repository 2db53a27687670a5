import { connectClient, verifyDatabaseUrl } from '../../src/db/migrate/connect.js';
import { readColumnTargets } from '../../src/keys/catalog.js';
import { type EncryptionSettings, verifyCurrentKey, verifyEncryptionSettings } from '../../src/keys/settings.js';
import type { Cli, GlobalOptions } from '../shared/context.js';

/** `application_name` of keys sessions, so a rotation holding a column's lock is named as one. */
const APPLICATION_NAME = 'opsctl keys';

/** What `keys rotate` and `keys status` start from: the settings, the current key, the database, the columns. */
export async function openKeysSession(cli: Cli<GlobalOptions>, what: string) {
  const config = cli.config();
  const settings: EncryptionSettings = verifyEncryptionSettings(config);
  const currentKey = verifyCurrentKey(config, settings);
  const url = verifyDatabaseUrl(config.database);
  const client = await connectClient(url);
  try {
    await client.query("select set_config('application_name', $1, false)", [`${APPLICATION_NAME} ${what}`]);
    const targets = await readColumnTargets(client, settings.columns);
    return { config, settings, currentKey, url, client, targets };
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}
