import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configCheck } from '../../src/checks/config-check.js';
import { appPackage, checkContext } from '../helpers/check-context.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { killPm2 } from '../helpers/pm2-kill.js';

/** A package that depends on itself, or any cycle: exit 2 before anything starts (README, "Config"). */
let dir: string | undefined;
afterEach(() => {
  if (!dir) return;
  killPm2(join(dir, '.opsctl', 'pm2')); // none should have started; stopped anyway if one did
  rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function app(config: string): string {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-cycle-'));
  const files: Record<string, string> = {
    'opsctl.config.yaml': config,
    'backend/package.json': JSON.stringify({ name: 'backend', scripts: { start: 'node server.js' } }),
    'backend/server.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n",
    'frontend/package.json': JSON.stringify({ name: 'frontend', scripts: { start: 'node server.js' } }),
    'frontend/server.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const run = (root: string, args: string[]) =>
  opsctl(['-C', root, ...args], { env: { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined } });

describe('dependsOn cycles', () => {
  it('a self-dependency: deploy exits 2 naming it, --json prints the error document, no PM2 daemon starts', async () => {
    const root = app('packages:\n  backend:\n    port: 4999\n    dependsOn: [backend]\n');
    const res = await run(root, ['deploy']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('packages.backend.dependsOn lists backend itself');
    expect(res.stderr).toContain('Remove "backend" from packages.backend.dependsOn');
    expect(hasStackTrace(res.stderr)).toBe(false);
    const json = await run(root, ['deploy', '--json']);
    expect(json.exitCode).toBe(2);
    const doc = JSON.parse(json.stdout);
    expect(JSON.stringify(doc)).toContain('lists backend itself');
    expect(existsSync(join(root, '.opsctl', 'pm2', 'pm2.pid'))).toBe(false);
    expect(existsSync(join(root, '.opsctl', 'releases'))).toBe(false);
  });

  it('a cycle of two: deploy and doctor exit 2 with the same message', async () => {
    const root = app('packages:\n  backend:\n    dependsOn: [frontend]\n  frontend:\n    dependsOn: [backend]\n');
    const deploy = await run(root, ['deploy']);
    const doctor = await run(root, ['doctor', '--json']);
    expect(deploy.exitCode).toBe(2);
    expect(deploy.stderr).toContain('dependsOn forms a cycle: backend → frontend → backend');
    expect(doctor.exitCode).toBe(2);
    expect(doctor.stdout).toContain('dependsOn forms a cycle: backend → frontend → backend');
    expect(existsSync(join(root, '.opsctl', 'pm2', 'pm2.pid'))).toBe(false);
  });

  it("doctor's config check fails a cyclic config given to it in code", async () => {
    const packages = [appPackage({ name: 'backend', dependsOn: ['backend'] })];
    const result = await configCheck.run(checkContext({ packages, root: '/app', warnings: [] }));
    expect(result.status).toBe('fail');
    expect(result.message).toContain('lists backend itself');
  });
});
