// Failed requests while a release goes out: a client GETs the backend's /health every 50 ms through a deploy of a
// release that throws while loading, and through a good one. opsctl (candidate first, README "Deploy") against
// what people do by hand: point a `current` symlink at the new release, then `pm2 reload` (for the bad release,
// then put the old one back the same way). Target: opsctl fails no request.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const SHOP = fileURLToPath(new URL('../examples/shop', import.meta.url));
const PM2 = join(dirname(createRequire(import.meta.url).resolve('pm2/package.json')), 'bin', 'pm2');
const EXCLUDED = new Set(['node_modules', '.opsctl', 'dist']);
const PORT = 25000 + (process.pid % 1000);
const BROKEN = "throw new Error('release failed to load');\n";

/** The backend alone, on PORT, with its dependencies installed. */
function copyBackend() {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-downtime-'));
  cpSync(SHOP, dir, { recursive: true, filter: (src) => !EXCLUDED.has(basename(src)) });
  writeFileSync(
    join(dir, 'opsctl.config.yaml'),
    `packages:\n  backend:\n    path: backend\n    port: ${PORT}\n    health: /health\n    instances: 1\ndatabase:\n  migrations: backend/migrations\n`,
  );
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: join(dir, 'backend'), stdio: 'ignore' });
  return dir;
}

/** Poll /health every 50 ms while `work` runs: requests made and failed. */
async function failedDuring(work) {
  let stop = false;
  const counts = { total: 0, failed: 0 };
  const polling = (async () => {
    while (!stop) {
      counts.total++;
      try {
        const res = await fetch(`http://127.0.0.1:${PORT}/health`, { signal: AbortSignal.timeout(2000) });
        if (res.status !== 200) counts.failed++;
      } catch {
        counts.failed++;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    await work();
  } finally {
    stop = true;
    await polling;
  }
  return counts;
}

function exec(cmd, args, env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: 'ignore' });
    child.once('exit', (code) => resolve(code));
  });
}

async function withSource(file, change, fn) {
  const original = readFileSync(file, 'utf8');
  writeFileSync(file, change(original));
  try {
    return await fn();
  } finally {
    writeFileSync(file, original);
  }
}

async function opsctlRun(url) {
  const dir = copyBackend();
  const env = { ...process.env, DATABASE_URL: url, PM2_HOME: join(dir, '.opsctl', 'pm2'), CI: '1' };
  const deploy = () => exec(process.execPath, [BIN, '-C', dir, 'deploy'], env);
  const server = join(dir, 'backend', 'server.js');
  try {
    if ((await deploy()) !== 0) throw new Error('opsctl: the first deploy failed');
    const bad = await failedDuring(() => withSource(server, (s) => BROKEN + s, deploy));
    const good = await failedDuring(() => withSource(server, (s) => `${s}\n// next release\n`, deploy));
    return { bad, good };
  } finally {
    await exec(process.execPath, [PM2, 'kill'], env);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** By hand: releases/<n> copies, `current` switched, then `pm2 reload backend --update-env`. */
async function byHandRun(url) {
  const dir = copyBackend();
  const env = { ...process.env, DATABASE_URL: url, PORT: String(PORT), PM2_HOME: join(dir, '.pm2') };
  const pm2 = (...args) => exec(process.execPath, [PM2, ...args], env);
  let n = 0;
  const release = (change) => {
    const to = join(dir, 'releases', String(++n));
    cpSync(join(dir, 'backend'), to, { recursive: true });
    if (change) writeFileSync(join(to, 'server.js'), change(readFileSync(join(to, 'server.js'), 'utf8')));
    return to;
  };
  const activate = (to) => {
    rmSync(join(dir, 'current.tmp'), { force: true });
    symlinkSync(to, join(dir, 'current.tmp'));
    renameSync(join(dir, 'current.tmp'), join(dir, 'current'));
  };
  const healthy = async () => {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${PORT}/health`)).status === 200) return;
      } catch {}
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('by hand: the backend never answered');
  };
  try {
    const first = release();
    activate(first);
    await pm2(
      'start',
      join(dir, 'current', 'server.js'),
      '--name',
      'backend',
      '-i',
      '1',
      '--cwd',
      join(dir, 'current'),
    );
    await healthy();
    const bad = await failedDuring(async () => {
      activate(release((s) => BROKEN + s));
      await pm2('reload', 'backend', '--update-env');
      // the operator sees it broken and puts the old release back the same way
      activate(first);
      await pm2('reload', 'backend', '--update-env');
      await healthy();
    });
    const good = await failedDuring(async () => {
      activate(release((s) => `${s}\n// next release\n`));
      await pm2('reload', 'backend', '--update-env');
      await healthy();
    });
    return { bad, good };
  } finally {
    await pm2('kill');
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run() {
  const url = createDatabase(`opsctl_bench_downtime_${process.pid}`);
  const ops = await opsctlRun(url);
  const hand = await byHandRun(url);
  const row = (name, o, h) => ({
    name,
    unit: 'failed requests',
    opsctlMs: o.failed,
    baseline: `current + pm2 reload by hand, ${h.total} requests`,
    baselineMs: h.failed,
    ratio: h.failed ? o.failed / h.failed : o.failed ? Number.POSITIVE_INFINITY : 0,
    target: '0 failed',
    ok: o.failed === 0,
    detail: `opsctl: ${o.failed} of ${o.total} failed; by hand: ${h.failed} of ${h.total}`,
  });
  return [
    row('downtime: release that fails to load', ops.bad, hand.bad),
    row('downtime: good release', ops.good, hand.good),
  ];
}
