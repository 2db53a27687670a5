import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPm2, pm2Bin } from '../../src/pm2/cli.js';
import { createRunner } from '../../src/process/runner.js';
import { opsctl } from '../helpers/cli.js';
import { freePort } from '../helpers/tcp.js';

/**
 * A one-package app (`api`, two cluster instances, no dependencies) deployed under a real PM2 of its own. Its
 * `/crash` answers with the instance's pm_id, then throws an uncaught exception in that worker.
 */
let app: string;
let port: number;
const home = () => join(app, '.opsctl', 'pm2');
const run = (args: string[]) =>
  opsctl(['-C', app, ...args], {
    env: { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined },
    timeoutMs: 90_000,
  });
const doctor = async () => {
  const res = await run(['doctor', '--only', 'processes', '--json']);
  return JSON.parse(res.stdout).checks[0] as { status: string; message: string; details?: string[] };
};
const instances = () => createPm2(createRunner(), home(), app).jlist();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-processes-'));
  port = await freePort();
  mkdirSync(join(app, 'api'));
  writeFileSync(
    join(app, 'opsctl.config.yaml'),
    `packages:\n  api:\n    port: ${port}\n    health: /health\n    instances: 2\n`,
  );
  writeFileSync(
    join(app, 'api', 'package.json'),
    JSON.stringify({ name: 'api', version: '1.0.0', private: true, scripts: { start: 'node server.js' } }),
  );
  writeFileSync(
    join(app, 'api', 'server.js'),
    [
      "require('node:http').createServer((req, res) => {",
      "  if (req.url === '/crash') setImmediate(() => { throw new TypeError('crashed on purpose by the test'); });",
      '  res.end(String(process.env.pm_id));',
      '}).listen(process.env.PORT);',
      '',
    ].join('\n'),
  );
});

afterAll(() => {
  if (existsSync(join(home(), 'pm2.pid'))) {
    try {
      execFileSync(process.execPath, [pm2Bin(), 'kill'], {
        env: { ...process.env, PM2_HOME: home() },
        stdio: 'ignore',
        timeout: 20_000,
      });
    } catch {
      process.kill(Number(readFileSync(join(home(), 'pm2.pid'), 'utf8')), 'SIGKILL');
    }
  }
  rmSync(app, { recursive: true, force: true });
});

describe('processes check against a real PM2', () => {
  it('a deploy and five more in a row are reloads, not crashes: pass', async () => {
    for (let i = 0; i <= 5; i++) {
      appendFileSync(join(app, 'api', 'server.js'), `// release ${i}\n`);
      const res = await run(['deploy']);
      expect(res.exitCode, res.stderr).toBe(0);
    }
    // PM2 counts every reload as a restart: the old check called this "crash-looping"
    const list = await instances();
    expect(list).toHaveLength(2);
    expect(list.every((p) => p.restarts >= 5)).toBe(true);
    const check = await doctor();
    expect(check.status).toBe('pass');
    expect(check.message).toMatch(/2 instances online/);
  }, 240_000);

  it('a worker killed by an uncaught exception and restarted by PM2: fail, naming the instance and its exit code', async () => {
    // a crash within PM2's kill_timeout (5 s) + 1 s of a deploy looks like the deploy's own restart (README, "doctor")
    await sleep(7_000);
    const before = await instances();
    const res = await fetch(`http://127.0.0.1:${port}/crash`);
    const crashed = Number(await res.text());
    await vi.waitFor(
      async () => {
        const now = (await instances()).find((p) => p.pmId === crashed);
        const was = before.find((p) => p.pmId === crashed);
        expect(now?.state).toBe('online');
        expect(now?.restarts).toBeGreaterThan(was!.restarts);
      },
      { timeout: 20_000, interval: 250 },
    );
    const check = await doctor();
    expect(check.status).toBe('fail');
    expect(check.message).toContain(`api#${crashed}`);
    expect(check.message).toMatch(/crashed/);
    expect(check.details?.join('\n')).toMatch(new RegExp(`api#${crashed}: .*exited with code \\d+`));
    // the other instance is named only as healthy
    expect(check.details?.filter((l) => l.startsWith(`api#${crashed}:`))).toHaveLength(1);
  }, 60_000);

  it('`opsctl stop api`: stopped on purpose (warn), one line per instance, no crash', async () => {
    const res = await run(['stop', 'api']);
    expect(res.exitCode, res.stderr).toBe(0);
    const check = await doctor();
    expect(check.status).toBe('warn');
    expect(check.message).toMatch(/stopped on purpose/);
    expect(check.message).not.toMatch(/crash/);
    expect(check.details).toHaveLength(2);
    expect(
      check.details
        ?.filter((l) => l.startsWith('api#'))
        .map((l) => l.split(':')[0])
        .sort(),
    ).toEqual((await instances()).map((p) => `api#${p.pmId}`).sort());
  }, 60_000);
});
