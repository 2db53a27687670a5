// outdated: `opsctl outdated` over four packages against `npm outdated` run in each package one after the other
// (what the seed's runbook does). Both ask the real registry; alternating runs, medians (target <= 0.6x).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, ratioRow, timeCommand } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const APP = fileURLToPath(new URL('../test/fixtures/deps/app', import.meta.url));
const PACKAGES = ['backend', 'frontend', 'shared', 'worker'];
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const TARGET = 0.6;

export async function run() {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-bench-outdated-'));
  try {
    cpSync(APP, root, { recursive: true });
    for (const p of ['backend', 'frontend', 'worker']) {
      execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: join(root, p), stdio: 'ignore' });
    }
    const m = alternate(
      {
        npm: () =>
          PACKAGES.reduce(
            (sum, p) => sum + timeCommand('npm', ['outdated', '--json'], { cwd: join(root, p), expectStatus: 1 }),
            0,
          ),
        opsctl: () => timeCommand(process.execPath, [BIN, 'outdated', '--json', '-C', root], { expectStatus: 0 }),
      },
      RUNS,
    );
    return [
      ratioRow({
        name: 'outdated: opsctl outdated (4 packages)',
        opsctlMs: m.opsctl,
        baseline: 'npm outdated in each package, one after the other',
        baselineMs: m.npm,
        max: TARGET,
      }),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
