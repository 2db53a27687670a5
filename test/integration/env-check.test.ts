import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';

/** An app whose `api/.env.example` lists API_KEY, deployed under a real PM2 before the key was set. */
let app: Pm2App;
const KEY = `key-${process.pid}-Vb7`;

beforeAll(async () => {
  app = await createPm2App('env-check', {
    files: {
      'api/.env.example': 'API_KEY=\n',
      'api/server.js': "require('node:http').createServer((q, s) => s.end()).listen(process.env.PORT);\n",
    },
  });
});
afterAll(() => app?.cleanup());

describe('env check against a real PM2', () => {
  it('the key is not set: fail, naming it', async () => {
    expect((await app.run(['deploy'])).exitCode).toBe(0);
    const check = await app.check('env');
    expect(check.status).toBe('fail');
    expect(check.message).toBe('api: API_KEY not set');
  }, 120_000);

  it('set in .env after the process started: fail, the running process does not have it', async () => {
    writeFileSync(join(app.dir, '.env'), `API_KEY=${KEY}\n`);
    const check = await app.check('env');
    expect(check.status).toBe('fail');
    expect(check.message).toBe('api: API_KEY not set in the running process (started before it was set)');
    expect(JSON.stringify(check)).not.toContain(KEY);
  }, 60_000);

  it('after `opsctl restart api`: pass, in the running process too, and the value never printed', async () => {
    expect((await app.run(['restart', 'api'])).exitCode).toBe(0);
    const check = await app.check('env');
    expect(check.status).toBe('pass');
    expect(check.message).toBe('api: 1 required variable set (API_KEY), and in its running process');
    expect(JSON.stringify(check)).not.toContain(KEY);
  }, 120_000);
});
