// deploy benchmarks on copies of the example app, against the plain script an operator writes today
// (per package: npm ci, npm run build when it has one, pm2 start; on a redeploy pm2 reload):
// 1. first deploy (opsctl also migrates and waits for health): at most 1.5x the script;
// 2. redeploy with nothing changed: at most 0.25x the script.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, median, ratioRow, timeCommand } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const SHOP = fileURLToPath(new URL('../examples/shop', import.meta.url));
const PM2 = join(dirname(createRequire(import.meta.url).resolve('pm2/package.json')), 'bin', 'pm2');
const REDIS_URL = process.env.OPSCTL_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const RUNS = Number(process.env.BENCH_DEPLOY_RUNS ?? 3);
const EXCLUDED = new Set(['node_modules', '.opsctl', 'dist']);
const PACKAGES = [
  { name: 'backend', port: 24000 + (process.pid % 1000), build: false },
  { name: 'frontend', port: 23000 + (process.pid % 1000), build: true },
];

function copyShop() {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-bench-deploy-'));
  cpSync(SHOP, dir, { recursive: true, filter: (src) => !EXCLUDED.has(basename(src)) });
  const config = join(dir, 'opsctl.config.yaml');
  writeFileSync(
    config,
    readFileSync(config, 'utf8')
      .replace('port: 4000', `port: ${PACKAGES[0].port}`)
      .replace('port: 3000', `port: ${PACKAGES[1].port}`),
  );
  return dir;
}

/** The operator's script: npm ci, npm run build, pm2 start (reload when already running) per package. */
function script(dir, env, redeploy) {
  return timeCommand(
    process.execPath,
    [
      '-e',
      `
    const { execFileSync } = require('node:child_process');
    const run = (cmd, args, cwd, extra = {}) => execFileSync(cmd, args, { cwd, stdio: 'ignore', env: { ...process.env, ...extra } });
    for (const p of ${JSON.stringify(PACKAGES)}) {
      const cwd = ${JSON.stringify(dir)} + '/' + p.name;
      run('npm', ['ci', '--no-audit', '--no-fund'], cwd);
      if (p.build) run('npm', ['run', 'build'], cwd);
      run(process.execPath, [${JSON.stringify(PM2)}, ${redeploy ? "'reload', p.name, '--update-env'" : "'start', 'server.js', '--name', p.name"}], cwd, { PORT: String(p.port) });
    }`,
    ],
    { env, expectStatus: 0 },
  );
}

function pm2Kill(home) {
  try {
    execFileSync(process.execPath, [PM2, 'kill'], { env: { ...process.env, PM2_HOME: home }, stdio: 'ignore' });
  } catch {}
}

export async function run() {
  const firstOps = [];
  const firstScript = [];
  const againOps = [];
  const againScript = [];
  for (let i = 0; i < RUNS; i++) {
    const url = createDatabase(`opsctl_bench_deploy_${process.pid}`);
    const opsDir = copyShop();
    const scriptDir = copyShop();
    const opsEnv = { ...process.env, DATABASE_URL: url, REDIS_URL, PM2_HOME: join(opsDir, '.opsctl', 'pm2'), CI: '1' };
    const scriptEnv = { ...process.env, DATABASE_URL: url, REDIS_URL, PM2_HOME: join(scriptDir, '.pm2') };
    try {
      firstOps.push(timeCommand(process.execPath, [BIN, '-C', opsDir, 'deploy'], { env: opsEnv, expectStatus: 0 }));
      againOps.push(timeCommand(process.execPath, [BIN, '-C', opsDir, 'deploy'], { env: opsEnv, expectStatus: 0 }));
      pm2Kill(opsEnv.PM2_HOME); // the script's apps take the same ports
      firstScript.push(script(scriptDir, scriptEnv, false));
      againScript.push(script(scriptDir, scriptEnv, true));
    } finally {
      pm2Kill(opsEnv.PM2_HOME);
      pm2Kill(scriptEnv.PM2_HOME);
      rmSync(opsDir, { recursive: true, force: true });
      rmSync(scriptDir, { recursive: true, force: true });
    }
  }
  const row = (name, ops, base, max) =>
    ratioRow({ name, opsctlMs: median(ops), baseline: 'npm ci + build + pm2 start', baselineMs: median(base), max });
  return [
    row('deploy: first deploy (migrate + health gate)', firstOps, firstScript, 1.5),
    row('deploy: redeploy, nothing changed', againOps, againScript, 0.25),
  ];
}
