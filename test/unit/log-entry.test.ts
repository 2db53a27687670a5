import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryLines, parseLogLines, textMatcher } from '../../src/logs/log-entry.js';

const fixture = (path: string) => readFileSync(join(import.meta.dirname, '../fixtures/logs/pm2', path), 'utf8');
const origin = { package: 'backend', stream: 'out' as const };

describe('parseLogLines on PM2 logs recorded with time: true', () => {
  const entries = parseLogLines(fixture('cluster/handled-out.log'), origin);

  it('reads a pino line into level, time, message and a stack with real line breaks', () => {
    const pino = entries.find((e) => e.level)!;
    expect(pino).toMatchObject({ package: 'backend', stream: 'out', level: 'error', message: 'lookup failed' });
    expect(pino.time).toEqual(new Date(JSON.parse(/\{.*\}/.exec(fixture('cluster/handled-out.log'))![0]).time));
    expect(pino.stack?.[0]).toBe("TypeError: Cannot read properties of undefined (reading 'sku')");
    const lines = entryLines(pino);
    expect(lines[0]).toBe(`${pino.time!.toISOString()} ERROR lookup failed`);
    expect(lines[1]).toBe("  TypeError: Cannot read properties of undefined (reading 'sku')");
    expect(lines[2]).toMatch(/^ {6}at lookup \(/);
    expect(lines.join('\n')).not.toContain('\\n');
  });

  it('keeps a plain line as written, timed by PM2 stamp; unstamped lines take the time of the line before', () => {
    const plain = entries.find((e) => e.message.endsWith('listening'))!;
    expect(entryLines(plain)).toEqual([plain.message]);
    expect(plain.time).toEqual(new Date(plain.message.slice(0, 19)));
    const error = parseLogLines(fixture('cluster/handled-error.log'), { ...origin, stream: 'error' });
    expect(error[1]!.message).toMatch(/^\s+at lookup/);
    expect(error[1]!.time).toEqual(error[0]!.time);
  });
});

describe('the other fields of a JSON entry', () => {
  it("shows a request's method, URL, status and time, then each field as key=value; secret-named fields as ****", () => {
    // as the example backend (and pino-http) write them
    const line = JSON.stringify({
      level: 50,
      time: 1764425333123,
      pid: 4242,
      hostname: 'web-1',
      name: 'shop-backend',
      req: { method: 'POST', url: '/api/orders' },
      res: { statusCode: 500 },
      responseTime: 12.6,
      orderId: 7,
      note: 'two words',
      apiToken: 'tok-123',
      msg: 'request completed',
    });
    const [entry] = parseLogLines(line, origin);
    expect(entry!.context).toBe('POST /api/orders 500 (13 ms) orderId=7 note="two words" apiToken=****');
    expect(entryLines(entry!)[0]).toBe(
      `${new Date(1764425333123).toISOString()} ERROR request completed POST /api/orders 500 (13 ms) orderId=7 note="two words" apiToken=****`,
    );
    expect(entryLines(entry!).join('\n')).not.toContain('tok-123');
  });

  it('adds nothing to an entry with only the usual fields', () => {
    const [entry] = parseLogLines(JSON.stringify({ level: 30, time: 1, pid: 1, hostname: 'h', msg: 'ready' }), origin);
    expect(entry!.context).toBeUndefined();
    expect(entryLines(entry!)[0]).toMatch(/INFO {2}ready$/);
  });
});

describe('textMatcher', () => {
  it('takes text as a plain substring, /…/flags as a regular expression', () => {
    expect(textMatcher('a.b')('xa.by')).toBe(true);
    expect(textMatcher('a.b')('axb')).toBe(false);
    expect(textMatcher('/ORDER \\d+/i')('order 17 failed')).toBe(true);
    expect(textMatcher('/ORDER \\d+/')('order 17 failed')).toBe(false);
  });
});
