import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCrashes } from '../../src/logs/parse-crashes.js';
import { hasStamp, readFailedExits } from '../../src/logs/pm2-stamp.js';

/** Logs of real Node scripts under real PM2, recorded by test/fixtures/logs/pm2/record.mjs (see its README). */
const dir = join(import.meta.dirname, '../fixtures/logs/pm2');
const read = (...path: string[]) => readFileSync(join(dir, ...path), 'utf8');
const layout = { root: '/srv/shop', packages: [{ name: 'backend', path: 'backend' }] };

function parse(mode: string, app: string) {
  const exits = readFailedExits(read(mode, 'pm2.log')).get(app);
  const texts = ['error', 'out'].map((stream) => read(mode, `${app}-${stream}.log`));
  const stamped = texts.some(hasStamp);
  return texts.flatMap((text) => parseCrashes(text, { ...layout, pm2: true, failedExits: exits, stamped }));
}
const crashes = (mode: string, app: string) =>
  parse(mode, app)
    .filter((e) => e.kind === 'crash')
    .map((e) => `${e.type}: ${e.message} @ ${e.frame}`);

const SYNC = "TypeError: Cannot read properties of undefined (reading 'id') @ backend/sync-throw.js:4";
const REJECT = 'Error: connect ECONNREFUSED 127.0.0.1:6379 @ backend/async-reject.js:4';
const CAUSE = 'Error: could not load order 42 @ backend/cause.js:5';
const ESM = 'RangeError: invalid page size: -1 @ backend/esm-throw.mjs:4';
const MULTILINE = 'Error: query failed: SELECT * FROM orders WHERE id = 7 @ backend/multiline-error.js:4';
const HANDLER = "SyntaxError: Expected property name or '}' in JSON at position 1 @ backend/handler-present.js:7";

describe('uncaught exceptions under PM2, each found once and located in the source tree', () => {
  it.each([
    ['cluster', 'sync-throw', SYNC], // PM2's cluster handler writes a bare, unstamped stack
    ['cluster', 'async-reject', REJECT], // "You have triggered an unhandledRejection"
    ['cluster', 'cause', CAUSE],
    ['cluster', 'esm-throw', ESM],
    ['cluster', 'handler-present', HANDLER],
    ['fork', 'sync-throw', SYNC], // a stamped stack, then PM2 saw the app exit with code 1
    ['fork', 'cause', CAUSE],
    ['fork', 'esm-throw', ESM],
    ['fork', 'handler-present', HANDLER],
    ['fork-npm', 'sync-throw', SYNC], // Node's own printout (caret, trailer), every line stamped
    ['fork-npm', 'async-reject', REJECT],
    ['fork-npm', 'cause', CAUSE],
    ['fork-npm', 'esm-throw', ESM],
    ['fork-npm', 'handler-present', HANDLER], // the app's handler says "uncaught exception"
    ['cluster', 'multiline-error', MULTILINE], // a message of several lines before the frames
    ['fork', 'multiline-error', MULTILINE],
    ['fork-npm', 'multiline-error', MULTILINE],
    ['cluster', 'reject-string', 'UnhandledPromiseRejection: just a string rejection @ undefined'],
    [
      'fork-npm',
      'reject-string',
      'UnhandledPromiseRejection: a promise rejected with "just a string rejection" @ node:internal/process/promises:389',
    ],
  ])('%s mode, %s', (mode, app, expected) => {
    expect(crashes(mode, app)).toEqual([expected]);
  });

  it('finds a thrown string in Node printout (fork through npm)', () => {
    expect(crashes('fork-npm', 'non-error')).toEqual(['Uncaught: payment provider said no @ backend/non-error.js:4']);
  });

  it('takes the time of a stamped crash from PM2, of an unstamped one from the next stamped line or the file', () => {
    const [fork] = parse('fork', 'sync-throw').filter((e) => e.kind === 'crash');
    const stamp = /^(\S+): TypeError/m.exec(read('fork', 'sync-throw-error.log'))![1]!;
    expect(fork!.timestamp).toEqual(new Date(stamp));
    const mtime = new Date('2030-01-01T00:00:00Z');
    const text = read('cluster', 'sync-throw-error.log');
    const cluster = parseCrashes(text, { ...layout, pm2: true, stamped: true, mtime });
    expect(cluster.map((e) => e.timestamp)).toEqual([mtime]);
  });
});

describe('errors the app caught and logged under PM2 are not crashes', () => {
  it('fork mode: of the stacks printed just before a failed exit, only the last one is the crash', () => {
    const restamp = (text: string, stamp: string) => text.replace(/^\S+: /gm, `${stamp}: `);
    const text =
      restamp(read('fork', 'handled-error.log'), '2030-01-01T10:00:01') +
      restamp(read('fork', 'sync-throw-error.log'), '2030-01-01T10:00:03');
    const events = parseCrashes(text, { ...layout, pm2: true, failedExits: [new Date('2030-01-01T10:00:04')] });
    expect(events.map((e) => `${e.kind} ${e.type} @ ${e.frame}`)).toEqual([
      'logged TypeError @ backend/handled.js:3',
      'crash TypeError @ backend/sync-throw.js:4',
    ]);
  });

  it.each(['cluster', 'fork', 'fork-npm'])('%s mode: a pino err at level 50 and console.error(err)', (mode) => {
    const events = parse(mode, 'handled');
    expect(events.filter((e) => e.kind === 'crash')).toEqual([]);
    // the pino line (stdout) and console.error(err) (stderr)
    expect(events.map((e) => `${e.kind} ${e.type} @ ${e.frame}`)).toEqual([
      'logged TypeError @ backend/handled.js:3',
      'logged TypeError @ backend/handled.js:3',
    ]);
  });

  it.each(['cluster', 'fork', 'fork-npm'])(
    '%s mode: "unhandled" / "uncaught" in a handled error\'s log line',
    (mode) => {
      // "WARN …: unhandled status 503" then a stack, "ERROR Unhandled error in route …: TypeError …" then
      // "INFO still serving", a pino err at level 50 with msg "uncaught error in request handler, returned 500"
      const events = parse(mode, 'handled-words');
      expect(events.map((e) => `${e.kind} ${e.type} @ ${e.frame}`)).toEqual([
        'logged Error @ backend/handled-words.js:4',
        'logged TypeError @ backend/handled-words.js:8',
        'logged TypeError @ backend/handled-words.js:8',
      ]);
    },
  );

  it('a bare stack in a PM2 log without PM2 stamps elsewhere is not taken for PM2 crash output', () => {
    const text = read('cluster', 'handled-error.log').replace(/^\S+: /gm, '');
    expect(parseCrashes(text, { ...layout, pm2: true, stamped: false }).filter((e) => e.kind === 'crash')).toEqual([]);
  });
});
