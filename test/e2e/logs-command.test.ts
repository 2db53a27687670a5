import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/net/free-port.js';
import { opsctl } from '../helpers/cli.js';
import { killPm2 } from '../helpers/pm2-kill.js';

/** `opsctl logs` on a real two-package app under PM2: merged, prefixed, JSON pretty-printed, filtered, redacted. */
let app: string;
const TOKEN = `tok-${process.pid}-Qm4z`;

const BACKEND = `const http = require('node:http');
console.log('backend listening, token ' + process.env.API_TOKEN);
try {
  null.total;
} catch (err) {
  console.log(JSON.stringify({ level: 50, time: Date.now(), err: { type: err.name, message: err.message, stack: err.stack }, msg: 'order 17 failed' }));
}
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT));
`;
const WORKER = `const http = require('node:http');
setTimeout(() => console.log(JSON.stringify({ level: 30, time: Date.now(), msg: 'worker picked job 3' })), 300);
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT));
`;

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  opsctl(['-C', app, ...args], { env: { PM2_HOME: undefined, API_TOKEN: TOKEN, ...env }, timeoutMs: 90_000 });

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-e2e-logs-'));
  const ports = { backend: await freePort(), worker: await freePort() };
  for (const [name, code] of [
    ['backend', BACKEND],
    ['worker', WORKER],
  ] as const) {
    mkdirSync(join(app, name));
    writeFileSync(
      join(app, name, 'package.json'),
      JSON.stringify({ name, version: '1.0.0', scripts: { start: 'node server.js' } }),
    );
    writeFileSync(join(app, name, 'server.js'), code);
  }
  writeFileSync(
    join(app, 'opsctl.config.json'),
    JSON.stringify({
      packages: { backend: { path: 'backend', port: ports.backend }, worker: { path: 'worker', port: ports.worker } },
    }),
  );
  const deploy = await run(['deploy']);
  expect(deploy.exitCode, deploy.stderr).toBe(0);
  const out = join(app, '.opsctl/pm2/logs/worker-out.log');
  const end = Date.now() + 20_000;
  while (!(existsSync(out) && readFileSync(out, 'utf8').includes('job 3')) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 200));
  }
});

afterAll(() => {
  killPm2(join(app, '.opsctl/pm2'));
  rmSync(app, { recursive: true, force: true });
});

describe('opsctl logs', () => {
  it('merges every package with a package prefix, pretty-prints JSON lines with a real stack, redacts', async () => {
    const res = await run(['logs']);
    expect(res.exitCode, res.stderr).toBe(0);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^backend +\| \S+: backend listening, token \*\*\*\*$/));
    const failed = lines.findIndex((l) => /^backend +\| \d{4}-\S+Z ERROR order 17 failed$/.test(l));
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(lines[failed + 1]).toMatch(/^backend +\| {3}TypeError: Cannot read properties of null \(reading 'total'\)$/);
    expect(lines[failed + 2]).toMatch(/^backend +\| {7}at Object\.<anonymous> \(/);
    expect(lines).toContainEqual(expect.stringMatching(/^worker +\| \S+Z INFO {2}worker picked job 3$/));
    expect(res.stdout).not.toContain('\\n');
    expect(res.stdout).not.toContain(TOKEN);
    expect(res.stdout).not.toContain('\u001b['); // no colour without a TTY
  });

  it('--grep takes a substring or a /regex/; --since drops older lines', async () => {
    const plain = await run(['logs', '--grep', 'job 3']);
    expect(plain.stdout.trimEnd().split('\n')).toEqual([expect.stringMatching(/^worker +\| .*worker picked job 3$/)]);
    const regex = await run(['logs', '--grep', '/ORDER \\d+ FAILED/i']);
    expect(regex.stdout).toMatch(/^backend +\| .*ERROR order 17 failed\n/);
    expect(regex.stdout).not.toContain('worker');
    await new Promise((r) => setTimeout(r, 2_500));
    const recent = await run(['logs', '--since', '1s']);
    expect(recent).toMatchObject({ exitCode: 0, stdout: '' });
  });

  it('--json gives structured, redacted entries; logs <package> keeps working', async () => {
    const res = await run(['logs', 'backend', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'logs', ok: true, package: 'backend' });
    expect(doc.entries).toContainEqual({
      package: 'backend',
      stream: 'out',
      time: expect.any(String),
      level: 'error',
      message: 'order 17 failed',
      stack: expect.arrayContaining(["TypeError: Cannot read properties of null (reading 'total')"]),
    });
    expect(doc.entries.every((e: { package: string }) => e.package === 'backend')).toBe(true);
    expect(res.stdout).not.toContain(TOKEN);
    expect(res.stdout).toContain('token ****');
  });

  it('--follow prints lines written after it started', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    const child = spawn(process.execPath, [BIN, '-C', app, 'logs', '--lines', '0', '--follow'], {
      env: { ...process.env, PM2_HOME: '', NO_COLOR: '1', API_TOKEN: TOKEN },
    });
    try {
      let seen = '';
      child.stdout.on('data', (d) => {
        seen += d;
      });
      await new Promise((r) => setTimeout(r, 1_500));
      writeFileSync(join(app, '.opsctl/pm2/logs/worker-out.log'), '2030-01-01T00:00:00: a new line\n', { flag: 'a' });
      const end = Date.now() + 15_000;
      while (!seen.includes('a new line') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(seen).toMatch(/worker +\| 2030-01-01T00:00:00: a new line/);
    } finally {
      child.kill('SIGKILL');
    }
  });
  it('--follow ends on Ctrl-C (SIGINT) quietly: exit 130, no error and no "run again" hint; SIGTERM: 143', async () => {
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('../helpers/cli.js');
    for (const [signal, code] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      const child = spawn(process.execPath, [BIN, '-C', app, 'logs', '--lines', '0', '--follow'], {
        env: { ...process.env, PM2_HOME: '', NO_COLOR: '1', API_TOKEN: TOKEN },
      });
      try {
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        const end = Date.now() + 15_000;
        while (!stderr.includes('Ctrl-C stops') && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
        const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
        child.kill(signal);
        expect(await exited).toBe(code);
        expect(stderr).not.toMatch(/✖|Interrupted|Terminated|Run the command again/);
      } finally {
        child.kill('SIGKILL');
      }
    }
  });
});
