import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pm2Bin } from '../../src/pm2/cli.js';
import { BIN, opsctl } from '../helpers/cli.js';
import { freePort } from '../helpers/tcp.js';

/** deploy, status, scale, stop and --foreground on a copy of examples/shop with real npm, PM2 and PostgreSQL. */

const EXAMPLE = fileURLToPath(new URL('../../examples/shop', import.meta.url));
const EXCLUDED = new Set(['node_modules', '.opsctl', 'dist']);
const PASSWORD = `pw-${process.pid}-Zq9x`;
const TOKEN = `tok-${process.pid}-Hh7k2`;

let app: string;
let env: Record<string, string>;
let ports: { backend: number; frontend: number };
let admin: pg.Client;
let dbName: string;

function baseUrl(): URL {
  const url = new URL(process.env.OPSCTL_TEST_PG_URL || 'postgres://127.0.0.1:5432/test');
  if (!url.username) url.username = process.env.PGUSER || process.env.USER || userInfo().username;
  return url;
}

async function health(port: number): Promise<number> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) })).status;
  } catch {
    return 0;
  }
}

const run = (args: string[], timeoutMs = 90_000) => opsctl(['-C', app, ...args], { env, timeoutMs });

function assertNoSecrets(...texts: string[]): void {
  for (const text of texts) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(TOKEN);
  }
}

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-deploy-'));
  cpSync(EXAMPLE, app, { recursive: true, filter: (src) => !EXCLUDED.has(basename(src)) });
  ports = { backend: await freePort(), frontend: await freePort() };
  const config = join(app, 'opsctl.config.yaml');
  writeFileSync(
    config,
    readFileSync(config, 'utf8')
      .replace('port: 4000', `port: ${ports.backend}`)
      .replace('port: 3000', `port: ${ports.frontend}`),
  );
  admin = new pg.Client({ connectionString: baseUrl().toString() });
  await admin.connect();
  dbName = `opsctl_deploy_${process.pid}`;
  await admin.query(`create database ${dbName}`);
  const url = baseUrl();
  url.password = PASSWORD; // the machine's Postgres trusts local connections; the password must still never show
  url.pathname = `/${dbName}`;
  env = { DATABASE_URL: url.toString(), REDIS_URL: 'redis://127.0.0.1:6379', API_TOKEN: TOKEN, PM2_HOME: '', CI: '1' };
  delete (env as Record<string, string | undefined>).PM2_HOME;
});

afterAll(async () => {
  if (app) {
    try {
      execFileSync(process.execPath, [pm2Bin(), 'kill'], {
        env: { ...process.env, PM2_HOME: join(app, '.opsctl', 'pm2') },
        stdio: 'ignore',
        timeout: 20_000,
      });
    } catch {
      // no daemon was started
    }
  }
  if (admin) {
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
  }
  if (app) rmSync(app, { recursive: true, force: true });
});

type Json = {
  exitCode: number;
  packages: Array<{
    name: string;
    steps: Array<{ step: string; status: string; reason?: string }>;
    logTail?: string[];
    rolledBackTo?: string;
  }>;
};
const steps = (doc: Json, pkg: string) =>
  Object.fromEntries(doc.packages.find((p) => p.name === pkg)!.steps.map((s) => [s.step, s.status]));

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
      expect(backend.rolledBackTo).toMatch(/^[0-9a-f]{12}$/);
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

  it('--foreground runs plain children and Ctrl-C leaves no process behind', async () => {
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
      child.kill('SIGINT');
    });
    expect(code).toBe(130);
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
