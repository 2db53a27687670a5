import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupCrashes } from '../../src/logs/fingerprint.js';
import { parseCrashes } from '../../src/logs/parse-crashes.js';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/logs', name), 'utf8');
const ROOT = '/srv/shop';
const crashes = (text: string) => parseCrashes(text, { root: ROOT }).filter((e) => e.kind === 'crash');

describe('parseCrashes on a recorded Node.js crash log', () => {
  const events = crashes(fixture('node-crash.log'));

  it('finds both uncaught TypeErrors and the unhandled rejection, nothing else', () => {
    expect(events.map((e) => e.type)).toEqual(['TypeError', 'TypeError', 'UnhandledPromiseRejection']);
  });

  it('takes the message and the first frame outside node internals, relative to the root', () => {
    expect(events[0]).toMatchObject({
      message: "Cannot read properties of undefined (reading 'id')",
      frame: 'backend/routes/orders.js:2',
    });
    expect(events[0]!.stack[0]).toBe("TypeError: Cannot read properties of undefined (reading 'id')");
    expect(events[0]!.stack[1]).toContain('at exports.show');
  });

  it('reduces the rejection to its reason', () => {
    expect(events[2]!.message).toBe('a promise rejected with "nope"');
    expect(events[2]!.frame).toBe('node:internal/process/promises:389');
    expect(events[2]!.stack.at(-1)).toBe(
      'at process.processTicksAndRejections (node:internal/process/task_queues:96:32)',
    );
  });

  it('groups the two identical crashes into one signature counted twice', () => {
    const groups = groupCrashes([{ file: 'backend/logs/err.log', events, mtime: new Date('2026-01-01T00:00:00Z') }]);
    expect(groups.map((g) => [g.type, g.count])).toEqual([
      ['TypeError', 2],
      ['UnhandledPromiseRejection', 1],
    ]);
    expect(groups[0]!.lastSeen.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('parseCrashes on logger output', () => {
  it('counts pino error lines as logged errors, a fatal uncaughtException as a crash, ignores info and warn', () => {
    const events = parseCrashes(fixture('pino.log'), { root: ROOT });
    expect(events.map((e) => `${e.kind}|${e.type}|${e.frame}`)).toEqual([
      'logged|TypeError|backend/routes/invoices.js:18',
      'logged|TypeError|backend/routes/invoices.js:18',
      'crash|Error|node:net:1607',
    ]);
    expect(events[0]!.timestamp?.toISOString()).toBe(new Date(1795656120000).toISOString());
    expect(events[2]!.timestamp?.toISOString()).toBe('2026-11-26T03:12:00.000Z');
  });

  it('reads "Unhandled rejection" and "uncaughtException" lines, not handled errors', () => {
    const events = crashes(fixture('logger-text.log'));
    expect(events.map((e) => `${e.type}: ${e.message} @ ${e.frame}`)).toEqual([
      'Error: payment gateway timeout after 3000 ms @ backend/lib/gateway.js:77',
      'Error: payment gateway timeout after 5000 ms @ backend/lib/gateway.js:77',
      "TypeError: Cannot read properties of null (reading 'user') @ backend/middleware/auth.js:9",
    ]);
    expect(events[1]!.timestamp?.toISOString()).toBe('2026-11-26T03:12:00.000Z');
    const groups = groupCrashes([{ file: 'app.log', events, mtime: new Date() }]);
    expect(groups[0]).toMatchObject({ count: 2, message: 'payment gateway timeout after 5000 ms' });
  });

  it('reads the old [UnhandledPromiseRejection: …] form and thrown non-errors', () => {
    const text = [
      'node:internal/process/promises:288',
      '            triggerUncaughtException(err, true /* fromPromise */);',
      '            ^',
      '',
      '[UnhandledPromiseRejection: This error originated either by throwing inside of an async function without a catch block, or by rejecting a promise which was not handled with .catch(). The promise rejected with the reason "42".] {',
      "  code: 'ERR_UNHANDLED_REJECTION'",
      '}',
      '',
      'Node.js v18.19.0',
      '/srv/shop/backend/worker.js:3',
      "throw 'queue empty';",
      '^',
      'queue empty',
      '(Use `node --trace-uncaught ...` to show where the exception was thrown)',
      '',
      'Node.js v20.20.2',
    ].join('\n');
    expect(parseCrashes(text, { root: ROOT })).toEqual([
      expect.objectContaining({ type: 'UnhandledPromiseRejection', message: 'a promise rejected with "42"' }),
      expect.objectContaining({ type: 'Uncaught', message: 'queue empty', frame: 'backend/worker.js:3' }),
    ]);
  });

  it('takes the event names and Node\'s "Uncaught", not the words alone, for a crash', () => {
    const text = [
      'Uncaught TypeError: x is not a function',
      '    at run (/srv/shop/a.js:1:1)',
      '{"level":"error","message":"uncaughtException: boom","stack":"Error: boom\\n    at go (/srv/shop/b.js:2:2)"}',
      '{"level":50,"msg":"unhandled input, skipped","err":{"type":"Error","message":"bad","stack":"Error: bad"}}',
      '2026-11-26T03:10:05.004Z ERROR uncaught error in job 7, retried',
      'Error: flaky',
      '    at job (/srv/shop/c.js:3:3)',
    ].join('\n');
    expect(parseCrashes(text, { root: ROOT }).map((e) => `${e.kind} ${e.message}`)).toEqual([
      'crash x is not a function',
      'crash boom',
      'logged bad',
      'logged flaky',
    ]);
  });

  it('reads a message of several lines up to its frames, but not across a log line of its own', () => {
    const text = [
      'Error: query failed:',
      'SELECT * FROM orders',
      '    at q (/srv/shop/db.js:4:4)',
      'Error: handled',
      '2026-11-26T03:10:05.004Z INFO next request',
      '    at r (/srv/shop/db.js:5:5)',
    ].join('\n');
    expect(parseCrashes(text, { root: ROOT }).map((e) => `${e.message} @ ${e.frame}`)).toEqual([
      'query failed: SELECT * FROM orders @ db.js:4',
    ]);
  });

  it('finds no crash in a clean log, and counts a printed stack as a logged error', () => {
    const text = 'GET /health 200\nError: handled\n    at x (/srv/shop/a.js:1:1)\nGET /orders 200\n';
    expect(parseCrashes(text, { root: ROOT })).toEqual([
      expect.objectContaining({ kind: 'logged', type: 'Error', message: 'handled', frame: 'a.js:1' }),
    ]);
  });
});
