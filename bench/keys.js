// keys benchmark, against a local PostgreSQL (OPSCTL_BENCH_PG_URL, default postgres@127.0.0.1:5432/test): re-encrypt
// 20,000 values (the example app's module, every 10th row NULL) with a new key. opsctl keys rotate (batches of 500,
// compare-and-swap writes, a verifying pass that reads every value back) vs a plain script that decrypts, encrypts and
// updates one row per statement with the same module (bench/keys-plain.mjs). Target: <= 0.3x its time. Each run
// starts from the same data (copied back from a pristine table; the copy is not timed).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, printRows, psql, ratioRow, timeCommand } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const PLAIN = fileURLToPath(new URL('./keys-plain.mjs', import.meta.url));
const MODULE = fileURLToPath(new URL('../examples/shop/backend/utils/encryption.js', import.meta.url));
const PG_URL = process.env.OPSCTL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROWS = 20_000;
const TARGET = 0.3;

/** The scratch database with `orders_seed` (the pristine data) and `orders`. */
async function seed(url, oldKey) {
  const { encryptData } = await import(pathToFileURL(MODULE).href);
  const lines = [];
  for (let i = 1; i <= ROWS; i++)
    lines.push(`${i}\t${i % 10 === 0 ? '\\N' : encryptData(`user${i}@example.com`, oldKey)}`);
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-keys-'));
  try {
    writeFileSync(join(dir, 'seed.tsv'), `${lines.join('\n')}\n`);
    psql(url, ['-c', 'create table orders_seed (id int primary key, email text)']);
    psql(url, ['-c', `\\copy orders_seed from '${join(dir, 'seed.tsv')}'`]);
    psql(url, ['-c', 'create table orders (id int primary key, email text)']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const reset = (url) =>
  psql(url, [
    '-c',
    'truncate orders; insert into orders select * from orders_seed; drop table if exists opsctl_key_rotations',
    '-c',
    'vacuum analyze orders',
  ]);

export async function run() {
  const name = `opsctl_bench_keys_${process.pid}`;
  psql(PG_URL, ['-c', `drop database if exists ${name} with (force)`, '-c', `create database ${name}`]);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const root = mkdtempSync(join(tmpdir(), 'opsctl-bench-keys-app-'));
  const oldKey = randomBytes(32).toString('hex');
  const newKey = randomBytes(32).toString('hex');
  try {
    await seed(url.toString(), oldKey);
    writeFileSync(join(root, 'opsctl.config.yaml'), `encryption:\n  module: ${MODULE}\n  columns: [orders.email]\n`);
    const env = {
      ...process.env,
      DATABASE_URL: url.toString(),
      ENCRYPTION_KEY: oldKey,
      OLD_KEY: oldKey,
      NEW_KEY: newKey,
    };
    const times = { opsctl: [], plain: [] };
    for (let i = 0; i < RUNS; i++) {
      reset(url.toString());
      times.opsctl.push(
        timeCommand(process.execPath, [BIN, '-C', root, 'keys', 'rotate', '--new-key-env', 'NEW_KEY'], {
          env,
          expectStatus: 0,
        }),
      );
      reset(url.toString());
      times.plain.push(timeCommand(process.execPath, [PLAIN, MODULE], { env, expectStatus: 0 }));
    }
    return [
      ratioRow({
        name: `keys rotate: ${ROWS.toLocaleString('en')} rows`,
        opsctlMs: median(times.opsctl),
        baseline: 'plain script, one row per statement',
        baselineMs: median(times.plain),
        max: TARGET,
      }),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
    psql(PG_URL, ['-c', `drop database if exists ${name} with (force)`]);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printRows(await run());
