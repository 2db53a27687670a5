import { describe, expect, it } from 'vitest';
import { createRunner } from '../../src/process/runner.js';

// writes "hel", pauses so the two writes reach the parent as two chunks, then "lo\nworld" (no final newline)
const SPLIT_LINE = `process.stdout.write('hel'); setTimeout(() => process.stdout.write('lo\\nworld'), 150);`;

describe('runner output lines', () => {
  it('run: a line written in two chunks is one line', async () => {
    const lines: string[] = [];
    const res = await createRunner().run(process.execPath, ['-e', SPLIT_LINE], {
      timeoutMs: 10_000,
      onLine: (line) => lines.push(line),
    });
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toBe('hello\nworld');
    expect(lines).toEqual(['hello', 'world']);
  });

  it('spawn: a line written in two chunks is one line, and the last line without a newline is kept', async () => {
    const lines: Array<[string, string]> = [];
    const child = await createRunner().spawn!(process.execPath, ['-e', SPLIT_LINE], {
      onLine: (line, stream) => lines.push([line, stream]),
    });
    try {
      expect((await child.exited).exitCode).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    expect(lines).toEqual([
      ['hello', 'stdout'],
      ['world', 'stdout'],
    ]);
  });
});
