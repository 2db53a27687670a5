// audit: `opsctl audit --no-snyk` over four packages against `npm audit --json` run in each package one after the
// other (alternating runs, medians; target <= 0.6x), and the code audit of a generated 2,000-file source tree
// (target < 1.5 s, read from the JSON's sources[].durationMs of the code source). Both sides ask the local advisory
// server of the tests (recorded registry answers, test/helpers/advisory-server.ts) through npm_config_registry:
// the registry's audit endpoint is not reachable from every machine, and a local one keeps network noise out.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alternate, median, ratioRow, timeCommand } from './lib.js';

const BIN = fileURLToPath(new URL('../bin/opsctl.js', import.meta.url));
const APP = fileURLToPath(new URL('../test/fixtures/audit/app', import.meta.url));
const CODE = fileURLToPath(new URL('../test/fixtures/audit/code', import.meta.url));
const PACKAGES = ['backend', 'frontend', 'shared', 'worker'];
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FILES = 2000;
const CODE_LIMIT_MS = 1500;

/** What `npm audit` needs in each package: worker has no lockfile, so it gets npm's own --package-lock=false. */
const npmArgs = (p) => ['audit', '--json', ...(p === 'worker' ? ['--package-lock=false'] : [])];

export async function run() {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-bench-audit-'));
  const tree = mkdtempSync(join(tmpdir(), 'opsctl-bench-code-'));
  const server = await startServer();
  const env = { ...process.env, npm_config_registry: server.url };
  try {
    cpSync(APP, root, { recursive: true });
    const m = alternate(
      {
        npm: () => PACKAGES.reduce((sum, p) => sum + timeCommand('npm', npmArgs(p), { cwd: join(root, p), env }), 0),
        opsctl: () =>
          timeCommand(process.execPath, [BIN, 'audit', '--no-snyk', '--json', '-C', root], { env, expectStatus: 1 }),
      },
      RUNS,
    );
    const check = spawnSync(process.execPath, [BIN, 'audit', '--no-snyk', '--json', '-C', root], {
      encoding: 'utf8',
      env,
    });
    const found = JSON.parse(check.stdout).findings.length;

    makeTree(tree);
    const codeMs = [];
    for (let i = 0; i < RUNS; i++) {
      const res = spawnSync(process.execPath, [BIN, 'audit', '--no-snyk', '--json', '-C', tree], {
        encoding: 'utf8',
        env,
        maxBuffer: 512 * 1024 * 1024,
      });
      const code = JSON.parse(res.stdout).sources.find((s) => s.source === 'code');
      if (code.filesScanned < FILES + 1) throw new Error(`the code audit read ${code.filesScanned} files`);
      codeMs.push(code.durationMs);
    }
    const codeAudit = median(codeMs);
    return [
      ratioRow({
        name: `audit: opsctl audit --no-snyk (4 packages, ${found} findings)`,
        opsctlMs: m.opsctl,
        baseline: 'npm audit --json in each package, one after the other',
        baselineMs: m.npm,
        max: 0.6,
      }),
      {
        name: `audit: code audit of ${FILES} files`,
        opsctlMs: codeAudit,
        baseline: 'limit',
        baselineMs: CODE_LIMIT_MS,
        ratio: codeAudit / CODE_LIMIT_MS,
        target: `< ${CODE_LIMIT_MS} ms`,
        ok: codeAudit < CODE_LIMIT_MS,
      },
    ];
  } finally {
    server.child.kill();
    rmSync(root, { recursive: true, force: true });
    rmSync(tree, { recursive: true, force: true });
  }
}

/** The advisory server in a child process: the timed commands run with spawnSync, which blocks this one. */
async function startServer() {
  const helper = new URL('../test/helpers/advisory-server.ts', import.meta.url).href;
  const code = `const { advisoryServer } = await import(${JSON.stringify(helper)}); const s = await advisoryServer(); console.log(s.url);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = await once(child.stdout, 'data');
  return { url: String(chunk).trim(), child };
}

/**
 * 2,000 source files: opsctl's own TypeScript sources (src/, commands/: real application code of every size) and
 * the code-audit fixtures (crypto on every line), repeated in 40 folders; plus 500 files in node_modules and dist
 * that must not be read. Not a git work tree: every file present counts.
 */
function makeTree(dir) {
  const sources = [];
  for (const base of ['src', 'commands']) {
    const top = fileURLToPath(new URL(`../${base}/`, import.meta.url));
    for (const f of readdirSync(top, { recursive: true })) {
      if (String(f).endsWith('.ts')) sources.push({ ext: 'ts', text: readFileSync(join(top, String(f)), 'utf8') });
    }
  }
  for (const kind of ['positive', 'negative']) {
    for (const f of readdirSync(join(CODE, kind))) {
      if (/\.[jt]s$/.test(f))
        sources.push({ ext: f.endsWith('.ts') ? 'ts' : 'js', text: readFileSync(join(CODE, kind, f), 'utf8') });
    }
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'tree', version: '1.0.0', scripts: { start: 'node src/index.js' } }),
  );
  for (let i = 0; i < FILES; i++) {
    const folder = join(dir, 'src', `feature-${i % 40}`);
    mkdirSync(folder, { recursive: true });
    const source = sources[i % sources.length];
    writeFileSync(join(folder, `module-${i}.${source.ext}`), source.text);
  }
  for (const skipped of ['node_modules/big-lib', 'dist']) {
    mkdirSync(join(dir, skipped), { recursive: true });
    for (let i = 0; i < 250; i++) writeFileSync(join(dir, skipped, `f${i}.js`), sources[i % sources.length].text);
  }
  execFileSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
}
