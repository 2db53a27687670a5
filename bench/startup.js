// Start-up: `opsctl --version` and `opsctl --help` against `node -e 0`, alternating runs, medians (target ≤ 1.3x).
import { fileURLToPath } from 'node:url';
import { alternate, ratioRow, timeCommand } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const TARGET = 1.3;

export async function run() {
  const node = process.execPath;
  const m = alternate(
    {
      bare: () => timeCommand(node, ['-e', '0'], { expectStatus: 0 }),
      version: () => timeCommand(node, [BIN, '--version'], { expectStatus: 0 }),
      help: () => timeCommand(node, [BIN, '--help'], { expectStatus: 0 }),
    },
    RUNS,
  );
  return ['version', 'help'].map((k) =>
    ratioRow({
      name: `startup: opsctl --${k}`,
      opsctlMs: m[k],
      baseline: 'node -e 0',
      baselineMs: m.bare,
      max: TARGET,
    }),
  );
}
