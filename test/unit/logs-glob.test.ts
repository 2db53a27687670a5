import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGlob, segmentRegExp } from '../../src/logs/glob.js';
import { readTail } from '../../src/logs/read-tail.js';

let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-glob-'));
  for (const file of [
    'backend/logs/app.log',
    'backend/logs/err.log',
    'backend/logs/app.log.1',
    'backend/logs/.hidden.log',
    'services/a/logs/x.log',
    'services/a/node_modules/m/logs/y.log',
    'big.log',
  ]) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), 'x\n');
  }
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

const rel = (files: string[]) => files.map((f) => f.slice(root.length + 1));

describe('expandGlob', () => {
  it('matches * within a segment, not dotfiles', async () => {
    expect(rel(await expandGlob(root, 'backend/logs/*.log'))).toEqual(['backend/logs/app.log', 'backend/logs/err.log']);
  });

  it('matches ** across folders, skipping node_modules', async () => {
    expect(rel(await expandGlob(root, '**/logs/*.log'))).toEqual([
      'backend/logs/app.log',
      'backend/logs/err.log',
      'services/a/logs/x.log',
    ]);
  });

  it('matches exact names and ?, and returns nothing for a missing folder', async () => {
    expect(rel(await expandGlob(root, './backend/logs/app.log.?'))).toEqual(['backend/logs/app.log.1']);
    expect(await expandGlob(root, 'frontend/logs/*.log')).toEqual([]);
  });

  it('escapes regular-expression characters in a segment', () => {
    expect(segmentRegExp('app(1).log').test('app(1).log')).toBe(true);
    expect(segmentRegExp('a+b.log').test('aab.log')).toBe(false);
  });
});

describe('readTail', () => {
  it('reads only the end of a big file, from a line boundary', async () => {
    const file = join(root, 'big.log');
    writeFileSync(file, `${'old line\n'.repeat(1000)}last line one\nlast line two\n`);
    const tail = await readTail(file, 20);
    expect(tail.truncated).toBe(true);
    expect(tail.text).toBe('last line two\n');
    const whole = await readTail(file, 1_000_000);
    expect(whole.truncated).toBe(false);
    expect(whole.text.split('\n')).toHaveLength(1003);
  });
});
