// migrate benchmarks, against a local PostgreSQL (OPSCTL_BENCH_PG_URL, default postgres@127.0.0.1:5432/test):
// 1. 300 SQL migrations (each creates a table and inserts a row) applied to an empty database, one transaction per
//    migration: opsctl vs `psql` running the same statements in one session (the floor; target <= 1.2x) and vs
//    node-pg-migrate on the same migrations (--no-single-transaction, the same guarantee; target: opsctl faster);
// 2. `opsctl migrate status` with 1,000 applied migrations: under 300 ms beyond `opsctl --version`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, printRows, psql, ratioRow, timeCommand } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const NPM = fileURLToPath(new URL('../node_modules/node-pg-migrate/bin/node-pg-migrate.js', import.meta.url));
const PG_URL = process.env.OPSCTL_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const APPLY_COUNT = 300;
const STATUS_COUNT = 1000;
const APPLY_TARGET = 1.2;
const STATUS_BUDGET_MS = 300;

let dbCounter = 0;
/** Create an empty scratch database; returns its URL and a drop function. */
function scratchDatabase() {
  const name = `opsctl_bench_${process.pid}_${dbCounter++}`;
  psql(PG_URL, ['-c', `create database ${name}`]);
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => psql(PG_URL, ['-c', `drop database if exists ${name} with (force)`]) };
}

const statements = (i) => [
  `create table bench_${i} (id serial primary key, name text not null)`,
  `insert into bench_${i} (name) values ('row ${i}')`,
];

/** The same migrations in three shapes: opsctl's `-- up` SQL, node-pg-migrate's SQL, one psql script. */
function writeMigrations(count) {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-bench-'));
  mkdirSync(join(root, 'migrations'));
  mkdirSync(join(root, 'npm-migrations'));
  const script = [];
  for (let i = 1; i <= count; i++) {
    const name = `${String(i).padStart(4, '0')}_bench_${i}`;
    const body = statements(i)
      .map((s) => `${s};`)
      .join('\n');
    writeFileSync(join(root, 'migrations', `${name}.sql`), `-- up\n${body}\n-- down\ndrop table bench_${i};\n`);
    writeFileSync(
      join(root, 'npm-migrations', `${name}.sql`),
      `-- Up Migration\n${body}\n-- Down Migration\ndrop table bench_${i};\n`,
    );
    script.push(`begin;\n${body}\ncommit;`);
  }
  writeFileSync(join(root, 'all.sql'), `${script.join('\n')}\n`);
  return root;
}

/** Time `command(url)` on a fresh empty database, then drop it. */
function onFreshDatabase(command) {
  const db = scratchDatabase();
  // start every run from clean buffers, so one run's dirty pages are not flushed during the next one's
  psql(PG_URL, ['-c', 'checkpoint']);
  try {
    return command(db.url);
  } finally {
    db.drop();
  }
}

function applyRows(root) {
  const node = process.execPath;
  const m = alternate(
    {
      psql: () =>
        onFreshDatabase((url) =>
          timeCommand('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', join(root, 'all.sql')], {
            expectStatus: 0,
          }),
        ),
      opsctl: () =>
        onFreshDatabase((url) =>
          timeCommand(node, [BIN, '-C', root, 'migrate'], {
            env: { ...process.env, DATABASE_URL: url, CI: '1' },
            expectStatus: 0,
          }),
        ),
      nodePgMigrate: () =>
        onFreshDatabase((url) =>
          timeCommand(
            node,
            [
              NPM,
              'up',
              '-m',
              join(root, 'npm-migrations'),
              '--no-single-transaction',
              '--no-verbose',
              '--no-check-order',
            ],
            {
              env: { ...process.env, DATABASE_URL: url },
              expectStatus: 0,
            },
          ),
        ),
    },
    RUNS,
  );
  return [
    ratioRow({
      name: `migrate: ${APPLY_COUNT} SQL migrations on an empty database`,
      opsctlMs: m.opsctl,
      baseline: 'psql, same statements, a transaction each',
      baselineMs: m.psql,
      max: APPLY_TARGET,
    }),
    {
      name: `migrate: ${APPLY_COUNT} SQL migrations on an empty database`,
      opsctlMs: m.opsctl,
      baseline: 'node-pg-migrate up --no-single-transaction',
      baselineMs: m.nodePgMigrate,
      ratio: m.opsctl / m.nodePgMigrate,
      target: '< 1.0x',
      ok: m.opsctl < m.nodePgMigrate,
    },
  ];
}

function statusRow() {
  const root = writeMigrations(STATUS_COUNT);
  const db = scratchDatabase();
  try {
    const env = { ...process.env, DATABASE_URL: db.url, CI: '1' };
    timeCommand(process.execPath, [BIN, '-C', root, 'migrate'], { env, expectStatus: 0 });
    const m = alternate(
      {
        version: () => timeCommand(process.execPath, [BIN, '--version'], { expectStatus: 0 }),
        status: () =>
          timeCommand(process.execPath, [BIN, '-C', root, 'migrate', 'status', '--exit-code'], {
            env,
            expectStatus: 0,
          }),
      },
      RUNS * 2,
    );
    const beyond = m.status - m.version;
    return ratioRow({
      name: `migrate status, ${STATUS_COUNT} applied (time beyond start-up)`,
      opsctlMs: beyond,
      baseline: `the ${STATUS_BUDGET_MS} ms budget; opsctl --version ${m.version.toFixed(0)} ms, status ${m.status.toFixed(0)} ms`,
      baselineMs: STATUS_BUDGET_MS,
      max: 1,
      target: `<= 1.0 (${STATUS_BUDGET_MS} ms)`,
    });
  } finally {
    db.drop();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function run() {
  const root = writeMigrations(APPLY_COUNT);
  try {
    return [...applyRows(root), statusRow()];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) printRows(await run());
