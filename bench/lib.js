// Shared helpers for the benchmarks: wall-clock timing of whole commands, medians, and a results table.
import { execFileSync, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Wall time of one command in ms (stdout/stderr discarded). */
export function timeCommand(cmd, args, options = {}) {
  const started = process.hrtime.bigint();
  const res = spawnSync(cmd, args, { stdio: 'ignore', ...options });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (options.expectStatus !== undefined && res.status !== options.expectStatus) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}, expected ${options.expectStatus}`);
  }
  return ms;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Run several commands alternately (a, b, c, a, b, c, ...) so drift in machine load hits all alike.
 * Returns the median per name.
 */
export function alternate(commands, runs) {
  const samples = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
  for (let i = 0; i < runs; i++) {
    for (const [name, run] of Object.entries(commands)) samples[name].push(run());
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

export function printRows(rows) {
  const header = ['benchmark', 'opsctl', 'baseline', 'ratio', 'target', 'ok'];
  // a row with a `unit` counts something (failed requests) instead of timing
  const lines = rows.map((r) => [
    r.name,
    `${r.opsctlMs.toFixed(0)} ${r.unit ?? 'ms'}`,
    `${r.baselineMs.toFixed(0)} ${r.unit ?? 'ms'} (${r.baseline})`,
    r.ratio.toFixed(2),
    r.target,
    r.ok ? 'yes' : 'NO',
  ]);
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((l) => l[i].length)));
  for (const l of all) console.log(l.map((c, i) => c.padEnd(widths[i])).join('  '));
}

/** A result row: opsctl's time over the baseline's, and whether that ratio is within `max`. */
export function ratioRow({ name, opsctlMs, baseline, baselineMs, max, target = `<= ${max}x` }) {
  const ratio = opsctlMs / baselineMs;
  return { name, opsctlMs, baseline, baselineMs, ratio, target, ok: ratio <= max };
}

const PG_URL = process.env.OPSCTL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh database `name` on the bench's PostgreSQL (dropped first when it exists); its URL. */
export function createDatabase(name) {
  const sql = `drop database if exists ${name} with (force); create database ${name};`;
  const code = `const pg=require('pg');const c=new pg.Client(${JSON.stringify(PG_URL)});c.connect().then(async()=>{for(const q of ${JSON.stringify(sql)}.split(';').filter(s=>s.trim()))await c.query(q);await c.end()})`;
  // run from the repository, where pg is installed
  execFileSync(process.execPath, ['-e', code], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'inherit',
  });
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Run psql against `url` (quiet, stop at the first error); throws with its stderr. */
export function psql(url, args) {
  const res = spawnSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`psql ${args.join(' ')}: ${res.stderr}`);
}

/** A free loopback port (closed again before it is returned). */
export function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}
