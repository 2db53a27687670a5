/**
 * {{name}}
 * Runs in one transaction together with its state row; `exports.transaction = false` runs it outside one.
 * @param {{ context: { client: import('pg').Client } }} params
 */
exports.up = async ({ context: { client } }) => {
  await client.query('select 1');
};

/** @param {{ context: { client: import('pg').Client } }} params */
exports.down = async ({ context: { client } }) => {
  await client.query('select 1');
};
