import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npmAudit } from '../../src/audit/npm-audit.js';
import type { AppPackage } from '../../src/packages/types.js';
import type { Runner, RunOptions } from '../../src/process/runner.js';

const root = mkdtempSync(join(tmpdir(), 'opsctl-audit-run-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pkg(name: string, lockfile: boolean): AppPackage {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{}');
  if (lockfile) writeFileSync(join(dir, 'package-lock.json'), '{"packages": {}}');
  return {
    name,
    dir,
    path: name,
    scripts: {},
    dependencies: {},
    devDependencies: {},
    dependsOn: [],
    env: {},
    outputs: [],
  };
}

/** A runner that answers `npm audit` with an empty report after a delay and records how many ran at once. */
function slowRunner() {
  let running = 0;
  const seen = { max: 0, calls: [] as Array<{ args: string[]; cwd?: string }> };
  const runner: Runner = {
    async run(_command: string, args: string[], options: RunOptions) {
      seen.calls.push({ args, cwd: options.cwd });
      running++;
      seen.max = Math.max(seen.max, running);
      await new Promise((r) => setTimeout(r, 20));
      running--;
      return {
        exitCode: 0,
        stdout: '{"vulnerabilities": {}}',
        stderr: '',
        timedOut: false,
        notFound: false,
        durationMs: 20,
      };
    },
  };
  return { runner, seen };
}

describe('npm audit per package', () => {
  const packages = ['a', 'b', 'c', 'd', 'e'].map((n, i) => pkg(n, i !== 4));

  it('runs at most --concurrency at once, every package once', async () => {
    const { runner, seen } = slowRunner();
    await npmAudit(packages, { runner, concurrency: 2, omitDev: false });
    expect(seen.max).toBe(2);
    expect(seen.calls.map((c) => c.cwd).sort()).toEqual(packages.map((p) => p.dir).sort());
  });

  it('a package without a lockfile gets --package-lock=false and a note; --omit dev is passed on', async () => {
    const { runner, seen } = slowRunner();
    const result = await npmAudit(packages, { runner, concurrency: 5, omitDev: true });
    expect(seen.max).toBe(5);
    const args = Object.fromEntries(seen.calls.map((c) => [c.cwd, c.args]));
    expect(args[join(root, 'a')]).toEqual(['audit', '--json', '--loglevel=silly', '--omit=dev']);
    expect(args[join(root, 'e')]).toEqual([
      'audit',
      '--json',
      '--loglevel=silly',
      '--package-lock=false',
      '--omit=dev',
    ]);
    expect(result.notes).toEqual(['e: no lockfile; npm audited the tree npm install would build from package.json.']);
  });
});
