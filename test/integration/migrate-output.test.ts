import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';
import { cliEnv, createDatabase, makeApp, type TestDatabase, testServers, useServer } from './migrate-setup.js';

// a JS migration that talks: console.log and console.error, the database URL and a token among what it prints
const CHATTY = `export async function up({ context: { client } }) {
  console.log('migrating with', process.env.DATABASE_URL);
  console.info('token is', process.env.PAYMENTS_TOKEN);
  console.error('done:', { url: process.env.DATABASE_URL });
  await client.query('create table chatty (id int)');
}
export async function down({ context: { client } }) {
  await client.query('drop table chatty');
}
`;
const TOKEN = 'pay-tok-91f3c2aa';

describe.each(testServers())('migrate: what a JS migration prints ($label)', (server) => {
  const serverUrl = useServer(server);
  let db: TestDatabase;
  let app: ReturnType<typeof makeApp>;

  beforeEach(async () => {
    db = await createDatabase(serverUrl());
    app = makeApp({ 'migrations/0001_chatty.mjs': CHATTY });
  });
  afterEach(async () => {
    await db.drop();
    app.remove();
  });

  it('goes to stderr, redacted; stdout stays one JSON document under --json', async () => {
    const password = new URL(db.url).password;
    const res = await opsctl(['-C', app.root, 'migrate', '--json'], {
      env: { ...cliEnv(db.url), PAYMENTS_TOKEN: TOKEN },
    });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ command: 'migrate', ok: true, applied: ['0001_chatty'] });
    expect(res.stderr).toContain('migrating with postgres://');
    expect(res.stderr).toContain('token is ****');
    expect(res.stdout + res.stderr).not.toContain(TOKEN);
    if (password) expect(res.stdout + res.stderr).not.toContain(`:${password}@`);
  });

  it('goes to stderr without --json too, stdout keeps only the result', async () => {
    const res = await opsctl(['-C', app.root, 'migrate'], { env: { ...cliEnv(db.url), PAYMENTS_TOKEN: TOKEN } });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).not.toContain('migrating with');
    expect(res.stderr).toContain('token is ****');
  });
});
