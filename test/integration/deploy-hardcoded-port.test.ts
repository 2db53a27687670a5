import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';

/**
 * An app that ignores PORT (a hard-coded port) cannot run a candidate beside its live instances (README, "Deploy":
 * the app must listen on `process.env.PORT`): the failed deploy says so, instead of only "instance 3 is stopped".
 */
let app: Pm2App;
const server = (note: string) =>
  `require('node:http').createServer((q, s) => s.end('ok')).listen(${app.port}); // ${note}\n`;

beforeAll(async () => {
  app = await createPm2App('hardcoded-port', { files: { 'api/server.js': '' } });
  writeFileSync(join(app.dir, 'api', 'server.js'), server('release 1'));
  const res = await app.run(['deploy']);
  expect(res.exitCode, res.stderr).toBe(0);
}, 120_000);
afterAll(() => app?.cleanup());

describe('an app listening on a hard-coded port', () => {
  it('fails as a candidate with a message naming the cause; the live release keeps serving', async () => {
    writeFileSync(join(app.dir, 'api', 'server.js'), server('release 2'));
    const res = await app.run(['deploy', '--json']);
    expect(res.exitCode, res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout);
    expect(doc.error.message).toContain('the live release was not touched');
    expect(doc.error.message).toContain(`listen on port ${app.port}, the live one`);
    expect(doc.error.message).toContain('process.env.PORT');
    const human = await app.run(['deploy']);
    expect(human.exitCode).toBe(3);
    expect(human.stderr).toContain('the app must listen on process.env.PORT');
    expect((await app.instances()).map((p) => `${p.name}:${p.state}`)).toEqual(['api:online']);
  }, 120_000);
});
