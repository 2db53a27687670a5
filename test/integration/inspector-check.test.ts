import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { inspectorCheck } from '../../src/checks/inspector.js';
import { freePort } from '../../src/net/free-port.js';
import { findOpenInspectors } from '../../src/net/inspectors.js';
import { createRunner } from '../../src/process/runner.js';
import { checkContext } from '../helpers/check-context.js';
import { trackChildren } from '../helpers/children.js';
import { opsctl } from '../helpers/cli.js';
import { createPm2App } from '../helpers/pm2-app.js';

const children = trackChildren();

/** Start node with the given options and wait until its inspector says it is listening (on stderr). */
async function startNode(nodeArgs: string[], script = 'setInterval(() => {}, 1000)'): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('Debugger listening on')) resolve();
    });
    child.on('exit', () => reject(new Error(`node exited: ${stderr}`)));
  });
  return child;
}

const ctx = () => checkContext();

const ourInspectors = async (pid: number | undefined) =>
  (await findOpenInspectors({ runner: createRunner() }))?.filter((i) => i.pid === pid);

describe('inspector check against real node processes', () => {
  it('fails for an inspector bound to 0.0.0.0 and names the process', async () => {
    const port = await freePort();
    const child = await startNode([`--inspect=0.0.0.0:${port}`]);
    const result = await inspectorCheck.run(ctx());
    expect(result.status).toBe('fail');
    expect(result.message).toContain(`PID ${child.pid}`);
    expect(result.message).toContain(`0.0.0.0:${port}`);
    expect(result.hint).toContain('127.0.0.1');
    expect(result.hint).toContain('ssh -L');
    expect(result.details?.join('\n')).toContain(`--inspect=0.0.0.0:${port}`);
  });

  it('passes with a note for a loopback inspector', async () => {
    const port = await freePort();
    const child = await startNode([`--inspect=127.0.0.1:${port}`]);
    expect(await ourInspectors(child.pid)).toEqual([
      expect.objectContaining({ pid: child.pid, address: '127.0.0.1', port, flag: `--inspect=127.0.0.1:${port}` }),
    ]);
    const result = await inspectorCheck.run(ctx());
    expect(result.status).toBe('pass');
    expect(result.message).toContain(`PID ${child.pid} on 127.0.0.1:${port}`);
  });

  it('reports an inspector on a random port (--inspect=0) from its flag, without asking any port', async () => {
    const child = await startNode(['--inspect=0']);
    expect(await ourInspectors(child.pid)).toEqual([
      expect.objectContaining({ pid: child.pid, address: '127.0.0.1', port: 0, flag: '--inspect=0' }),
    ]);
  });

  it('finds an inspector opened at run time on the port of --inspect-port (on all interfaces: fail)', async () => {
    const port = await freePort();
    const child = await startNode(
      [`--inspect-port=0.0.0.0:${port}`],
      `require('inspector').open(); setInterval(() => {}, 1000)`,
    );
    expect(await ourInspectors(child.pid)).toEqual([
      expect.objectContaining({ address: '0.0.0.0', port, flag: `--inspect-port=0.0.0.0:${port}` }),
    ]);
    expect((await inspectorCheck.run(ctx())).status).toBe('fail');
  });

  it('finds an inspector asked for in NODE_OPTIONS (read from /proc/<pid>/environ)', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: `--inspect=127.0.0.1:${port}` },
    });
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await vi.waitFor(() => expect(stderr).toContain('Debugger listening on'), { timeout: 10_000 });
    expect(await ourInspectors(child.pid)).toEqual([
      expect.objectContaining({ address: '127.0.0.1', port, flag: `--inspect=127.0.0.1:${port}` }),
    ]);
  });

  it('ignores --inspect written after the script (an argument of the app, not of node)', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('http').createServer((q, s) => s.end()).listen(${port}, '0.0.0.0', () => console.log('ready'))`,
        'app.js',
        `--inspect=0.0.0.0:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(child);
    await once(child.stdout!, 'data');
    expect(await ourInspectors(child.pid)).toEqual([]);
  });

  it('does not take an ordinary node server for an inspector', async () => {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '-e',
        `require('http').createServer((q, s) => s.end('{}')).listen(${port}, '0.0.0.0', () => console.log('ready'))`,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    await once(child.stdout!, 'data');
    expect(await ourInspectors(child.pid)).toEqual([]);
  });

  it("never sends a request to an app's own ports: a server recording every request records none after doctor", async () => {
    const [appPort, inspectPort] = [await freePort(), await freePort()];
    // the app listens on all interfaces and has a loopback inspector: both must be seen, only one is an inspector
    const recorder = `require('http').createServer((q, s) => { console.log('REQUEST ' + q.method + ' ' + q.url); s.statusCode = 404; s.end(); }).listen(${appPort}, '0.0.0.0', () => console.log('ready'))`;
    const child = spawn(process.execPath, [`--inspect=127.0.0.1:${inspectPort}`, '-e', recorder], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await vi.waitFor(() => expect(stdout).toContain('ready'), { timeout: 10_000 });
    const plain = spawn(process.execPath, ['-e', recorder.replace(String(appPort), '0')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(plain);
    let plainOut = '';
    plain.stdout!.on('data', (chunk: Buffer) => (plainOut += chunk.toString()));
    await vi.waitFor(() => expect(plainOut).toContain('ready'), { timeout: 10_000 });

    const app = mkdtempSync(join(tmpdir(), 'opsctl-inspector-'));
    try {
      const res = await opsctl(['-C', app, 'doctor', '--json'], {
        env: { DATABASE_URL: undefined, REDIS_URL: undefined, PM2_HOME: undefined },
      });
      const inspector = JSON.parse(res.stdout).checks.find((c: { id: string }) => c.id === 'inspector');
      expect(inspector.status).toBe('pass');
      expect(inspector.message).toContain(`PID ${child.pid} on 127.0.0.1:${inspectPort}`);
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
    expect(stdout).not.toContain('REQUEST');
    expect(plainOut).not.toContain('REQUEST');
  });

  it('finds the inspector of a PM2 cluster worker, whose title hides its flags, from its pm2_env', async (t) => {
    const app = await createPm2App('inspector-pm2', {
      files: {
        'api/package.json': JSON.stringify({
          name: 'api',
          version: '1.0.0',
          scripts: { start: 'node --inspect=0.0.0.0 server.js' },
        }),
        'api/server.js': "require('node:http').createServer((q, s) => s.end()).listen(process.env.PORT);\n",
      },
    });
    try {
      expect((await app.run(['deploy'])).exitCode).toBe(0);
      // a cluster worker inherits the PM2 daemon's stderr: node's inspector message lands in pm2.log
      const daemonLog = join(app.dir, '.opsctl', 'pm2', 'pm2.log');
      const log = () => (existsSync(daemonLog) ? readFileSync(daemonLog, 'utf8') : '');
      await vi.waitFor(() => expect(log()).toMatch(/Debugger listening on|Starting inspector .* failed/), {
        timeout: 10_000,
      });
      // node's cluster module gives the worker port 9230 or so: when something else holds it, no inspector opened
      if (!log().includes('Debugger listening on')) return t.skip();
      const [worker] = await app.instances();
      const found = await ourInspectors(worker!.pid);
      expect(found).toEqual([expect.objectContaining({ address: '0.0.0.0', port: 0, flag: '--inspect=0.0.0.0' })]);
      const result = await inspectorCheck.run(ctx());
      expect(result.status).toBe('fail');
      expect(result.details?.join('\n')).toContain(`0.0.0.0 (port not in its arguments) PID ${worker!.pid}`);
    } finally {
      app.cleanup();
    }
  }, 120_000);
});
