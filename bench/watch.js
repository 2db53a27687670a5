// watch benchmark: memory stays flat over many rounds (README, "`opsctl watch`"). `opsctl watch` on the example
// app with a short interval (100 ms: a day of 30 s rounds is 2880 rounds) against the local Redis, its resident
// memory sampled from /proc every second; the slope of a least-squares line over the samples after warm-up, as KB
// per 1000 rounds. Budget: 1 MB per 1000 rounds (under 3 MB a day at the default interval).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const SHOP = fileURLToPath(new URL('../examples/shop', import.meta.url));
const REDIS_URL = process.env.OPSCTL_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_WATCH_SECONDS ?? 120);
const INTERVAL_MS = 100;
const BUDGET_KB_PER_1000_ROUNDS = 1024;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return num / den;
}

export async function run() {
  const child = spawn(
    process.execPath,
    [BIN, '-C', SHOP, 'watch', '--only', 'config', 'redis', 'processes', '--interval', String(INTERVAL_MS), '--json'],
    { env: { ...process.env, REDIS_URL, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const samples = [];
  const started = Date.now();
  try {
    while (Date.now() - started < SECONDS * 1000) {
      await sleep(1000);
      if (child.exitCode !== null) throw new Error(`watch exited early with ${child.exitCode}`);
      samples.push({ x: (Date.now() - started) / INTERVAL_MS, y: rssKb(child.pid) });
    }
  } finally {
    child.kill('SIGTERM');
  }
  const steady = samples.slice(Math.floor(samples.length / 3)); // after start-up and the first lazy imports
  const kbPer1000 = slope(steady) * 1000;
  const first = steady[0].y;
  const last = steady.at(-1).y;
  process.stderr.write(
    `watch: ${samples.length} samples, RSS ${first} → ${last} KB after warm-up, slope ${kbPer1000.toFixed(0)} KB per 1000 rounds\n`,
  );
  return [
    {
      name: `watch: RSS slope over ${Math.round(samples.at(-1).x)} rounds (${INTERVAL_MS} ms interval)`,
      opsctlMs: kbPer1000,
      baseline: 'budget',
      baselineMs: BUDGET_KB_PER_1000_ROUNDS,
      ratio: kbPer1000 / BUDGET_KB_PER_1000_ROUNDS,
      target: '<= 1.0 (1 MB per 1000 rounds)',
      ok: kbPer1000 <= BUDGET_KB_PER_1000_ROUNDS,
      unit: 'KB/1k rounds',
    },
  ];
}
