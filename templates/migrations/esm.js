/**
 * {{name}}
 * Runs in one transaction together with its state row; `export const transaction = false` runs it outside one.
 * @param {{ context: { client: import('pg').Client } }} params
 */
export async function up({ context: { client } }) {
  await client.query('select 1');
}

/** @param {{ context: { client: import('pg').Client } }} params */
export async function down({ context: { client } }) {
  await client.query('select 1');
}
