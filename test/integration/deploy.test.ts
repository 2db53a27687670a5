import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import {
  assertNoSecrets,
  createShopApp,
  filesUnder,
  health,
  type DeployJson as Json,
  type ShopApp,
  steps,
  TOKEN,
} from '../helpers/deploy-app.js';

/** deploy, status, scale, stop and --foreground on a copy of examples/shop with real npm, PM2 and PostgreSQL. */

let shop: ShopApp;
let app: string;
let env: Record<string, string>;
let ports: { backend: number; frontend: number };

const run = (args: string[], timeoutMs = 90_000) => shop.run(args, { timeoutMs });

beforeAll(async () => {
  shop = await createShopApp('deploy');
  ({ dir: app, env, ports } = shop);
});

afterAll(async () => {
  await shop?.cleanup();
});

describe('opsctl deploy', () => {
  it('deploys both packages, migrates, and status shows them online', async () => {
    const res = await run(['deploy', '--json']);
    assertNoSecrets(res.stdout, res.stderr);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as Json;
    expect(steps(doc, 'backend')).toMatchObject({ install: 'done', migrate: 'done', start: 'done', health: 'done' });
    expect(steps(doc, 'frontend')).toMatchObject({ build: 'done', start: 'done', health: 'done' });
    expect(await health(ports.backend)).toBe(200);
    expect(await health(ports.frontend)).toBe(200);
    const status = await run(['status', '--json']);
    assertNoSecrets(status.stdout, status.stderr);
    const packages = JSON.parse(status.stdout).packages as Array<{
      name: string;
      health: string;
      instances: Array<{ state: string; pid: number }>;
    }>;
    for (const p of packages) {
      expect(p.instances.length).toBeGreaterThan(0);
      expect(p.instances.every((i) => i.state === 'online' && i.pid > 0)).toBe(true);
      expect(p.health).toBe('ok');
    }
    const doctor = await run(['doctor', '--only', 'port', 'processes', '--json']);
    const checks = JSON.parse(doctor.stdout).checks as Array<{ id: string; status: string; message: string }>;
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['port:backend', 'pass'],
      ['port:frontend', 'pass'],
      ['processes', 'pass'],
    ]);
    expect(checks[0]!.message).toContain('held by backend itself');
  });

  it('a redeploy with nothing changed skips install, build and start', async () => {
    const res = await run(['deploy', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as Json;
    expect(steps(doc, 'backend')).toMatchObject({
      install: 'skipped',
      build: 'skipped',
      migrate: 'skipped',
      start: 'skipped',
      health: 'done',
    });
    expect(steps(doc, 'frontend')).toMatchObject({
      install: 'skipped',
      build: 'skipped',
      start: 'skipped',
      health: 'done',
    });
  });

  it('a release whose backend crashes exits 3, shows the crash, and the previous release keeps serving', async () => {
    const server = join(app, 'backend', 'server.js');
    const original = readFileSync(server, 'utf8');
    writeFileSync(
      server,
      `console.error('release-2 crashed: ' + process.env.API_TOKEN); process.exit(1);\n${original}`,
    );
    try {
      const res = await run(['deploy', '--json', '--health-timeout', '15000']);
      assertNoSecrets(res.stdout, res.stderr);
      expect(res.exitCode).toBe(3);
      const doc = JSON.parse(res.stdout) as Json;
      const backend = doc.packages.find((p) => p.name === 'backend')!;
      expect(steps(doc, 'backend').health).toBe('failed');
      // it failed as a candidate beside the live release, which was never replaced (README, "Deploy")
      expect(backend.rolledBackTo).toBeUndefined();
      expect(backend.steps.find((s) => s.step === 'health')?.reason).toContain('the live release was not touched');
      expect(backend.logTail?.join('\n')).toContain('release-2 crashed: ****');
      expect(steps(doc, 'frontend').start).toBeUndefined();
      expect(await health(ports.backend)).toBe(200);
    } finally {
      writeFileSync(server, original);
    }
  });

  it('a failing build exits 3 and restarts nothing', async () => {
    const before = JSON.parse((await run(['status', '--json'])).stdout).packages;
    const build = join(app, 'frontend', 'scripts', 'build.js');
    const original = readFileSync(build, 'utf8');
    writeFileSync(build, `console.error('build broke'); process.exit(1);\n${original}`);
    try {
      const res = await run(['deploy']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain('build broke');
      const after = JSON.parse((await run(['status', '--json'])).stdout).packages;
      expect(after.map((p: { instances: { pid: number }[] }) => p.instances.map((i) => i.pid))).toEqual(
        before.map((p: { instances: { pid: number }[] }) => p.instances.map((i) => i.pid)),
      );
    } finally {
      writeFileSync(build, original);
    }
  });

  it('scales up, to the current count (no-op) and down', async () => {
    const count = async () =>
      JSON.parse((await run(['status', '--json'])).stdout).packages.find((p: { name: string }) => p.name === 'backend')
        .instances.length;
    expect((await run(['scale', 'backend', '2'])).exitCode).toBe(0);
    expect(await count()).toBe(2);
    const noop = await run(['scale', 'backend', '2', '--json']);
    expect(noop.exitCode).toBe(0);
    expect(JSON.parse(noop.stdout).changed).toBe(false);
    expect((await run(['scale', 'backend', '-1'])).exitCode).toBe(0);
    expect(await count()).toBe(1);
    expect(await health(ports.backend)).toBe(200);
  });

  it('stop frees the ports; a port held by another process stops the deploy before it starts', async () => {
    expect((await run(['stop'])).exitCode).toBe(0);
    expect(await health(ports.backend)).toBe(0);
    expect(await health(ports.frontend)).toBe(0);
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(ports.backend, '127.0.0.1', r));
    try {
      const res = await run(['deploy']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain(`PID ${process.pid}`);
      expect(await health(ports.frontend)).toBe(0);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('rejects an unknown package (exit 2)', async () => {
    const res = await run(['deploy', 'nope']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('Unknown package');
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('--foreground runs plain children and %s leaves no process behind', async (signal, expected) => {
    const child = spawn(
      process.execPath,
      [BIN, '-C', app, 'deploy', '--foreground', '--skip-install', '--skip-build'],
      {
        env: { ...process.env, ...env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (c) => (stderr += c));
    const deadline = Date.now() + 30_000;
    while (!stderr.includes('Ctrl-C stops') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await health(ports.frontend)).toBe(200);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill(signal);
    });
    expect(code).toBe(expected);
    assertNoSecrets(stderr);
    expect(await health(ports.backend)).toBe(0);
    expect(await health(ports.frontend)).toBe(0);
    const leftovers = readdirSync('/proc').filter((pid) => {
      try {
        return (
          /^\d+$/.test(pid) &&
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('server.js') &&
          readFileSync(`/proc/${pid}/environ`, 'utf8').includes(TOKEN)
        );
      } catch {
        return false;
      }
    });
    expect(leftovers).toEqual([]);
  });

  // the apps' own log files (.opsctl/pm2/logs) hold what the apps print (the crash above prints the token on purpose)
  it('writes no secret into the files it keeps', () => {
    const files = [...filesUnder(join(app, '.opsctl', 'deploy')), join(app, '.opsctl', 'pm2', 'pm2.log')];
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) if (statSync(file).size < 5_000_000) assertNoSecrets(readFileSync(file, 'utf8'));
  });
});
