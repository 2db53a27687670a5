// The baseline of bench/keys.js: how people rotate today, a plain script over the same module. It reads the rows,
// then for each one decrypts with the old key, encrypts with the new one and updates that row (one statement each).
// Usage: node keys-plain.mjs <module> (DATABASE_URL, OLD_KEY, NEW_KEY in the environment).
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(new URL('../package.json', import.meta.url));
const pg = require('pg');
const { encryptData, decryptData } = await import(pathToFileURL(process.argv[2]).href);

const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const { rows } = await client.query('select id, email from orders where email is not null order by id');
for (const row of rows) {
  const plain = decryptData(row.email, process.env.OLD_KEY);
  await client.query('update orders set email = $2 where id = $1', [row.id, encryptData(plain, process.env.NEW_KEY)]);
}
await client.end();
