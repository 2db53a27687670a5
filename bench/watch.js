// watch benchmark: memory stays flat over many rounds (README, "`opsctl watch`"). `opsctl watch --metrics` on the
// example app with a short interval (100 ms: a day of 30 s rounds is 2880 rounds) against the local Redis; its
// own heap (prom-client's nodejs_heap_size_used_bytes) scraped every second. The heap saws up and down with garbage
// collection, so the slope is taken over the lowest sample of each 10 s window after warm-up (what survives
// collection), as KB per 1000 rounds. Budget: 256 KB per 1000 rounds (under 1 MB a day at the default interval).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const SHOP = fileURLToPath(new URL('../examples/shop', import.meta.url));
const REDIS_URL = process.env.OPSCTL_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SECONDS = Number(process.env.BENCH_WATCH_SECONDS ?? 180);
const INTERVAL_MS = 100;
const WINDOW_S = 10;
const BUDGET_KB_PER_1000_ROUNDS = 256;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function heapBytes(url) {
  const text = await (await fetch(url)).text();
  return Number(/^opsctl_watch_nodejs_heap_size_used_bytes (\d+)/m.exec(text)?.[1]);
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
  const port = await freePort();
  const args = ['-C', SHOP, 'watch', '--only', 'config', 'redis', 'processes', '--interval', String(INTERVAL_MS)];
  const child = spawn(process.execPath, [BIN, ...args, '--json', '--metrics', String(port)], {
    env: { ...process.env, REDIS_URL, NO_COLOR: '1' },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  const url = `http://127.0.0.1:${port}/metrics`;
  const samples = [];
  const started = Date.now();
  try {
    while (Date.now() - started < SECONDS * 1000) {
      await sleep(1000);
      if (child.exitCode !== null) throw new Error(`watch exited early with ${child.exitCode}`);
      const y = await heapBytes(url).catch(() => undefined);
      if (y) samples.push({ t: (Date.now() - started) / 1000, y });
    }
  } finally {
    child.kill('SIGTERM');
  }
  const steady = samples.filter((s) => s.t > SECONDS / 3); // after start-up and the first lazy imports
  const windows = new Map();
  for (const s of steady) {
    const w = Math.floor(s.t / WINDOW_S);
    if (!windows.has(w) || windows.get(w).y > s.y) windows.set(w, { x: (s.t * 1000) / INTERVAL_MS, y: s.y / 1024 });
  }
  const lows = [...windows.values()];
  const kbPer1000 = slope(lows) * 1000;
  process.stderr.write(
    `watch: heap lows ${lows.map((l) => Math.round(l.y)).join(' ')} KB; slope ${kbPer1000.toFixed(1)} KB per 1000 rounds\n`,
  );
  return [
    {
      name: `watch: heap slope over ${Math.round((SECONDS * 1000) / INTERVAL_MS)} rounds (${INTERVAL_MS} ms interval)`,
      opsctlMs: kbPer1000,
      baseline: 'budget',
      baselineMs: BUDGET_KB_PER_1000_ROUNDS,
      ratio: kbPer1000 / BUDGET_KB_PER_1000_ROUNDS,
      target: `<= 1.0 (${BUDGET_KB_PER_1000_ROUNDS} KB per 1000 rounds)`,
      ok: kbPer1000 <= BUDGET_KB_PER_1000_ROUNDS,
      unit: 'KB/1k rounds',
    },
  ];
}
