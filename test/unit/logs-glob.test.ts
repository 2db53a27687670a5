import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGlob } from '../../src/logs/glob.js';
import { readTail } from '../../src/logs/read-tail.js';
import { logSources, scanLogs } from '../../src/logs/scan.js';

let root: string;
let outside: string;

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
  // logrotate's `current.log -> app.log.1` style link
  symlinkSync('app.log.1', join(root, 'backend/logs/current.log'));
  outside = mkdtempSync(join(tmpdir(), 'opsctl-glob-abs-'));
  writeFileSync(join(outside, 'system.log'), 'x\n');
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const rel = (files: string[]) => files.map((f) => f.slice(root.length + 1));

describe('expandGlob', () => {
  it('matches * within a segment, not dotfiles, and follows a symlinked log file', async () => {
    expect(rel(await expandGlob(root, 'backend/logs/*.log'))).toEqual([
      'backend/logs/app.log',
      'backend/logs/current.log',
      'backend/logs/err.log',
    ]);
  });

  it('matches ** across folders, skipping node_modules', async () => {
    expect(rel(await expandGlob(root, '**/logs/*.log'))).toEqual([
      'backend/logs/app.log',
      'backend/logs/current.log',
      'backend/logs/err.log',
      'services/a/logs/x.log',
    ]);
    expect(rel(await expandGlob(root, 'services/**/*.log'))).toEqual(['services/a/logs/x.log']);
  });

  it('matches exact names and ?, and returns nothing for a missing folder', async () => {
    expect(rel(await expandGlob(root, './backend/logs/app.log.?'))).toEqual(['backend/logs/app.log.1']);
    expect(await expandGlob(root, 'frontend/logs/*.log')).toEqual([]);
  });

  it('matches {a,b} alternatives', async () => {
    expect(rel(await expandGlob(root, 'backend/logs/{app,err}.log'))).toEqual([
      'backend/logs/app.log',
      'backend/logs/err.log',
    ]);
  });

  it('takes an absolute glob as it is, not under the app root', async () => {
    expect(await expandGlob(root, `${outside}/*.log`)).toEqual([join(outside, 'system.log')]);
  });

  it('treats regular-expression characters in a name literally', async () => {
    writeFileSync(join(root, 'backend/logs/app(1).log'), 'x\n');
    try {
      expect(rel(await expandGlob(root, 'backend/logs/app(1).log'))).toEqual(['backend/logs/app(1).log']);
      expect(await expandGlob(root, 'backend/logs/a+p.log')).toEqual([]);
    } finally {
      rmSync(join(root, 'backend/logs/app(1).log'));
    }
  });
});

describe('scanLogs over configured globs', () => {
  it('leaves out files matched by a ! pattern, and does not report the ! pattern as unmatched', async () => {
    const scan = await scanLogs(logSources(root, ['backend/logs/*.log', '!backend/logs/err.log']), { root });
    expect(scan.files.map((f) => f.path).sort()).toEqual(['backend/logs/app.log', 'backend/logs/current.log']);
    expect(scan.unmatched).toEqual([]);
  });

  it('names a file found by an absolute glob by its absolute path', async () => {
    const scan = await scanLogs(logSources(root, [`${outside}/*.log`]), { root });
    expect(scan.files.map((f) => f.path)).toEqual([join(outside, 'system.log')]);
  });

  it('scans a file reached through a symlink and by its own name once', async () => {
    const scan = await scanLogs(logSources(root, ['backend/logs/*.log*']), { root });
    expect(scan.files.map((f) => f.path).sort()).toEqual([
      'backend/logs/app.log',
      'backend/logs/app.log.1',
      'backend/logs/err.log',
    ]);
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
