import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/net/free-port.js';
import { opsctl } from '../helpers/cli.js';

let app: string;
let holder: ChildProcess;
let port: number;
let freePortNumber: number;

/** An app whose backend port is taken by another process and whose log holds a real Node.js crash. */
beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-e2e-doctor-'));
  [port, freePortNumber] = [await freePort(), await freePort()];
  for (const name of ['backend', 'frontend']) {
    mkdirSync(join(app, name, 'logs'), { recursive: true });
    writeFileSync(join(app, name, 'package.json'), JSON.stringify({ name, scripts: { start: 'node server.js' } }));
  }
  const crash = spawnSync(process.execPath, ['-e', `null.id`], { encoding: 'utf8' });
  writeFileSync(join(app, 'backend/logs/app.log'), crash.stderr);
  writeFileSync(
    join(app, 'opsctl.config.json'),
    JSON.stringify({
      packages: { backend: { path: 'backend', port }, frontend: { path: 'frontend', port: freePortNumber } },
      logs: ['backend/logs/*.log'],
    }),
  );
  holder = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('up'))`],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await once(holder.stdout!, 'data');
});

afterAll(async () => {
  if (holder.exitCode === null) {
    holder.kill('SIGKILL');
    await once(holder, 'exit');
  }
  rmSync(app, { recursive: true, force: true });
});

describe('opsctl doctor --only port logs --json', () => {
  it('reports the port holder and the crash as failures, exit 1', async () => {
    // PM2_HOME unset: the app's own .opsctl/pm2 (none), not whatever PM2 home the caller uses
    const res = await opsctl(['doctor', '--only', 'port', 'logs', '--json'], {
      cwd: app,
      env: { PM2_HOME: undefined },
    });
    expect(res.exitCode).toBe(1);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'doctor', ok: false, exitCode: 1 });
    const byId = Object.fromEntries(doc.checks.map((c: { id: string }) => [c.id, c]));
    expect(Object.keys(byId).sort()).toEqual(['logs', 'port:backend', 'port:frontend']);
    expect(byId['port:backend']).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(new RegExp(`^port ${port} is in use by PID ${holder.pid} \\(.*node -e .*\\)$`)),
      hint: expect.stringContaining(`kill ${holder.pid}`),
    });
    expect(byId['port:frontend']).toMatchObject({ status: 'pass', message: `port ${freePortNumber} is free` });
    expect(byId.logs).toMatchObject({
      status: 'fail',
      message: expect.stringMatching(
        /^1 crash signature in 1 file since \S+Z: TypeError: Cannot read properties of null \(reading 'id'\) at \[eval\]:1 ×1 \(last /,
      ),
    });
    for (const check of doc.checks) expect(check.durationMs).toEqual(expect.any(Number));
  });
});

describe('opsctl doctor --since', () => {
  it('refuses what is not a duration (exit 2), naming the expected form', async () => {
    const res = await opsctl(['doctor', '--only', 'logs', '--since', 'soon', '--json'], {
      cwd: app,
      env: { PM2_HOME: undefined },
    });
    expect(res.exitCode).toBe(2);
    expect(JSON.parse(res.stdout).error.message).toContain('expected a duration such as 30m, 24h or 2d, got "soon"');
  });
});
