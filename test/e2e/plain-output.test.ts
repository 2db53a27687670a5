import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';
import { hasScript, onPty as onPtyIn } from '../helpers/pty.js';

if (!hasScript) console.warn('plain-output.test.ts: pseudo-terminal cases skipped, `script` (util-linux) is missing');

let app: string;
beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-plain-'));
  const pkgs = {
    backend: { name: 'backend', version: '1.0.0', scripts: { start: 'node server.js', build: 'node -e 1' } },
    frontend: { name: 'frontend', version: '1.0.0', scripts: { build: 'node -e 1' } },
  };
  for (const [name, pkg] of Object.entries(pkgs)) {
    mkdirSync(join(app, name));
    writeFileSync(join(app, name, 'package.json'), JSON.stringify(pkg));
  }
  writeFileSync(
    join(app, 'opsctl.config.json'),
    JSON.stringify({
      packages: { backend: { path: 'backend' }, frontend: { path: 'frontend', dependsOn: ['backend'] } },
    }),
  );
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

const STEPS = /\b(install|build|start|health): /;

/** Every progress line about a step says whose step it is; no listr2 markers, no progress line twice. */
function expectStepLinesNamePackages(stderr: string): void {
  const lines = stderr.split(/\r?\n/).filter(Boolean);
  const steps = lines.filter((l) => STEPS.test(l) && !l.startsWith('✔ preflight'));
  expect(steps.length).toBeGreaterThanOrEqual(8); // 2 packages × 4 steps
  for (const line of steps) expect(line).toMatch(/^[✔↓✖↩] (backend|frontend) (install|build|start|health)\b/);
  expect(stderr).not.toContain('[SKIPPED');
  const progress = lines.filter((l) => /^[✔↓✖↩] /.test(l));
  expect(new Set(progress).size).toBe(progress.length);
}

describe('without a terminal (plain lines)', () => {
  it('deploy prints one line per finished step, naming its package', async () => {
    const res = await opsctl(['deploy', '--dry-run'], { cwd: app });
    expect(res.exitCode, res.stderr).toBe(0);
    expectStepLinesNamePackages(res.stderr);
    expect(res.stderr).toContain('↓ backend install: skipped (no dependencies)');
    expect(res.stderr).toContain('↓ frontend build: dry run: would npm run build');
    expect(res.stderr).not.toMatch(/^❯ /m); // no "started" lines
  });

  it('a failed step is one line naming its package; the error follows once, in the report', async () => {
    const dir = mkdtempSync(join(app, 'fail-'));
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'build.js'), "console.error('build broke'); process.exit(1);\n");
    writeFileSync(
      join(dir, 'lib', 'package.json'),
      JSON.stringify({ name: 'lib', scripts: { build: 'node build.js' } }),
    );
    writeFileSync(join(dir, 'opsctl.config.json'), JSON.stringify({ packages: { lib: { path: 'lib' } } }));
    const res = await opsctl(['deploy'], { cwd: dir });
    expect(res.exitCode, res.stderr).toBe(3);
    expect(res.stderr).toMatch(/^✖ lib build: npm run build\b.*$/m);
    expect(res.stderr).toContain('↓ start and health: an earlier step failed');
    expect(res.stderr.match(/build broke/g)).toHaveLength(1);
  });

  it("doctor prints its table once, with no progress line repeating a check's result", async () => {
    const res = await opsctl(['doctor', '--only', 'config', 'node-version'], { cwd: app });
    expect(res.exitCode, res.stderr).toBe(0);
    const all = `${res.stdout}\n${res.stderr}`;
    expect(all.match(/^✔ config\b/gm)).toHaveLength(1);
    expect(all.match(/^✔ node-version\b/gm)).toHaveLength(1);
    expect(all.match(/2 packages: backend, frontend/g)).toHaveLength(1);
    expect(res.stdout).toMatch(/^✔ config +opsctl\.config\.json; 2 packages/m);
  });
});

const onPty = (args: string[], env: Record<string, string | undefined>) =>
  onPtyIn(app, args, { NO_COLOR: '1', ...env });

describe.skipIf(!hasScript)('on a terminal with CI set (plain lines)', () => {
  it('deploy names the package on every step line', () => {
    expectStepLinesNamePackages(onPty(['deploy', '--dry-run'], { CI: 'true' }));
  });

  it('doctor prints each check once', () => {
    const output = onPty(['doctor', '--only', 'config'], { CI: 'true' });
    expect(output.match(/2 packages: backend, frontend/g)).toHaveLength(1);
    expect(output).toMatch(/^✔ config +opsctl\.config\.json; 2 packages/m);
  });
});
