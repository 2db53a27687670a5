import { describe, expect, it } from 'vitest';
import { snykTest } from '../../src/audit/snyk.js';
import type { AppPackage } from '../../src/packages/types.js';
import type { Runner } from '../../src/process/runner.js';

const pkg = { name: 'api', dir: '/nowhere/api', path: 'api' } as AppPackage;

describe('snyk test that times out', () => {
  it('names the bound it was given', async () => {
    const runner: Runner = {
      run: async () => ({ exitCode: 124, stdout: '', stderr: '', timedOut: true, notFound: false, durationMs: 5 }),
    };
    const result = await snykTest([pkg], { runner, bin: 'snyk', concurrency: 1, omitDev: false, timeoutMs: 90_000 });
    expect(result.unreachable).toEqual([{ package: 'api', message: 'snyk test did not finish within 90 s' }]);
  });
});
