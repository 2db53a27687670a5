import { describe, expect, it } from 'vitest';
import { runNpmBatch } from '../../src/audit/npm-batch.js';
import type { Runner } from '../../src/process/runner.js';

// The one node process's report lines (README, "`opsctl audit`", npm advisories): a process ended mid-line (its
// bound, a crash, out of memory) leaves a cut last line; the jobs it finished count, the rest run per package.
describe('runNpmBatch: the lines of a process that was ended mid-write', () => {
  it('a cut last line is no result (that package runs again as a process of its own), not a crash', async () => {
    const mark = '@@opsctl-npm@@';
    const done = JSON.stringify({ i: 0, stdout: '{"vulnerabilities":{}}', stderr: '', timedOut: false });
    const runner: Runner = {
      async run() {
        const stdout = `\n${mark}${done}\n\n${mark}{"i":1,"stdout":"{\\"vulnera`;
        return { exitCode: 143, stdout, stderr: '', timedOut: true, notFound: false, durationMs: 1 };
      },
    };
    const jobs = [
      { dir: '/a', args: ['audit', '--json'] },
      { dir: '/b', args: ['audit', '--json'] },
    ];
    const results = await runNpmBatch(runner, '/npm/bin/npm-cli.js', jobs, { timeoutMs: 1_000, atOnce: 2 });
    expect([...results.keys()]).toEqual([0]);
    expect(results.get(0)?.stdout).toBe('{"vulnerabilities":{}}');
  });
});
