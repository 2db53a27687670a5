import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_CONFIG, exampleCodec, expectNoKeys, hexKey, keysTestBed } from '../helpers/keys-app.js';
import { hasScript } from '../helpers/pty.js';
import { type PtySession, startPty } from '../helpers/pty-session.js';

if (!hasScript) console.warn('skipped: keys rotate on a terminal needs util-linux `script`');

const bed = keysTestBed();
let sessions: PtySession[] = [];
afterEach(async () => {
  for (const s of sessions) {
    s.kill();
    await s.exited();
  }
  sessions = [];
});

const PRODUCTION = `${EXAMPLE_CONFIG}environments:\n  production: {}\n`;
const ALL = 'select id::text as id, email as v from orders order by id';

describe.skipIf(!hasScript)('opsctl keys rotate under --env production, on a terminal', () => {
  it('asks naming the database and the columns; "y" changes nothing (exit 130), the typed name rotates', async () => {
    const oldKey = hexKey();
    const newKey = hexKey();
    const { a, expected } = await bed.exampleApp(oldKey, 2_000, 5, PRODUCTION);
    const dbName = new URL(a.db.url).pathname.slice(1);
    const env = { DATABASE_URL: a.db.url, NEW_KEY: newKey };
    const args = [
      '-C',
      a.root,
      '--env',
      'production',
      'keys',
      'rotate',
      '--new-key-env',
      'NEW_KEY',
      '--batch-size',
      '100',
    ];
    const before = await a.values(ALL);

    const no = startPty(a.root, args, env);
    sessions.push(no);
    const question = new RegExp(
      `Re-encrypt public\\.orders\\.email on postgres@127\\.0\\.0\\.1:\\d+/${dbName} \\(production\\)\\?\\s+Type the environment's name \\(production\\) to go on:`,
    );
    await no.waitFor(question);
    no.type('y\r'); // under production "y" is not enough: the environment's name is
    expect(await no.exited()).toBe(130);
    expect(no.output()).toMatch(/Cancelled \("y" is not "production"\); nothing was changed/);
    expect(await a.values(ALL)).toEqual(before);

    const yes = startPty(a.root, args, env);
    sessions.push(yes);
    await yes.waitFor(question);
    yes.type('production\r');
    expect(await yes.exited()).toBe(0);
    expect(yes.output()).toMatch(/public\.orders\.email: 1600 rotated, 0 already under the new key/);
    expect(yes.output()).toMatch(/1\. Set ENCRYPTION_KEY to the new key/);
    const { open } = await exampleCodec(newKey);
    for (const [id, value] of await a.values(ALL)) expect(value === null ? null : open(value)).toBe(expected.get(id));
    expectNoKeys(no.output() + yes.output(), [oldKey, newKey]);
  });
});
