// doctor benchmarks:
// 1. a hung Postgres and a hung Redis (TCP accepted, never answered) with --timeout 1000: wall time ≤ 1.5 s;
// 2. all green on the example app with local Postgres and Redis: ≤ 5x `node -e 0`, side by side; for reference,
//    `pg_isready` then `redis-cli ping`, one after the other.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { greenShop } from './green-shop.js';
import { alternate, ratioRow, timeCommand } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const SHOP = fileURLToPath(new URL('../examples/shop', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const PG_URL = process.env.OPSCTL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A child process holding two TCP servers on loopback that accept and never answer; resolves their ports. */
function startHungServers() {
  const code = `
    const net = require('node:net');
    const ports = [];
    let n = 0;
    for (let i = 0; i < 2; i++) {
      const s = net.createServer(() => {}).listen(0, '127.0.0.1', () => {
        ports[i] = s.address().port;
        if (++n === 2) console.log(JSON.stringify(ports));
      });
    }`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    child.stdout.once('data', (d) => resolve({ ports: JSON.parse(String(d)), stop: () => child.kill() }));
  });
}

export async function run() {
  const node = process.execPath;
  const rows = [];

  const hung = await startHungServers();
  try {
    const [pgPort, redisPort] = hung.ports;
    const env = {
      ...process.env,
      DATABASE_URL: `postgres://app:benchpass@127.0.0.1:${pgPort}/app`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    };
    const times = [];
    for (let i = 0; i < 5; i++) {
      times.push(
        timeCommand(node, [BIN, '-C', SHOP, 'doctor', '--timeout', '1000', '--json'], { env, expectStatus: 1 }),
      );
    }
    const worst = Math.max(...times);
    rows.push(
      ratioRow({
        name: 'doctor: hung postgres + hung redis, --timeout 1000 (worst of 5)',
        opsctlMs: worst,
        baseline: 'the 1500 ms budget',
        baselineMs: 1500,
        max: 1,
        target: '<= 1.0 (1.5 s)',
      }),
    );
  } finally {
    hung.stop();
  }

  const shop = await greenShop();
  try {
    const { env } = shop;
    const green = spawnSync(node, [BIN, '-C', shop.dir, 'doctor', '--json'], { env, encoding: 'utf8' });
    if (green.status !== 0) {
      process.stderr.write(
        `doctor is not green on the example app; the green benchmark is not meaningful:\n${green.stdout}\n`,
      );
    }
    const pg = new URL(PG_URL);
    const m = alternate(
      {
        bare: () => timeCommand(node, ['-e', '0'], { expectStatus: 0 }),
        doctor: () => timeCommand(node, [BIN, '-C', shop.dir, 'doctor', '--json'], { env }),
        cli: () =>
          timeCommand('pg_isready', ['-h', pg.hostname, '-p', pg.port || '5432', '-q']) +
          timeCommand('redis-cli', ['-u', shop.redisUrl, 'ping']),
      },
      RUNS,
    );
    const greenRow = ratioRow({
      name: 'doctor: all green on examples/shop',
      opsctlMs: m.doctor,
      baseline: 'node -e 0',
      baselineMs: m.bare,
      max: 5,
    });
    rows.push({ ...greenRow, ok: green.status === 0 && greenRow.ok });
    rows.push({
      name: 'reference: pg_isready then redis-cli ping',
      opsctlMs: m.doctor,
      baseline: 'pg_isready + redis-cli',
      baselineMs: m.cli,
      ratio: m.doctor / m.cli,
      target: 'reference only',
      ok: true,
    });
  } finally {
    shop.stop();
  }
  return rows;
}
