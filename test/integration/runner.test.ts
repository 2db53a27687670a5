import { readFileSync } from 'node:fs';
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

describe('runner process groups', () => {
  // a shell that starts a grandchild and waits on it: the grandchild's pid is its first line
  const TREE = ['-c', 'sleep 30 & echo $!; wait'];
  const alive = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  };

  it('a timed-out child is ended with everything it started', async () => {
    let grandchild = 0;
    const res = await createRunner().run('sh', TREE, {
      timeoutMs: 1_000,
      onLine: (line) => {
        grandchild = Number(line);
      },
    });
    expect(res.timedOut).toBe(true);
    expect(res.durationMs).toBeLessThan(10_000); // not held until the grandchild's own end
    expect(grandchild).toBeGreaterThan(0);
    expect(alive(grandchild)).toBe(false);
  });

  it('a cancelled child is ended with everything it started', async () => {
    const controller = new AbortController();
    let grandchild = 0;
    const res = await createRunner().run('sh', TREE, {
      timeoutMs: 60_000,
      signal: controller.signal,
      onLine: (line) => {
        grandchild = Number(line);
        controller.abort();
      },
    });
    expect(res.exitCode).not.toBe(0);
    expect(res.durationMs).toBeLessThan(10_000);
    expect(grandchild).toBeGreaterThan(0);
    expect(alive(grandchild)).toBe(false);
  });
});
