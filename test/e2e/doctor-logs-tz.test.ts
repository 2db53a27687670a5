import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/net/free-port.js';
import { opsctl } from '../helpers/cli.js';
import { killPm2 } from '../helpers/pm2-kill.js';
import { waitFor } from '../helpers/wait.js';

/**
 * PM2's stamps read the same in any time zone (issue 9): PM2 runs in UTC (as under CI or systemd), the operator's
 * shell is in Tokyo or Los Angeles, and doctor still finds the crashes and says when they happened. `backend` runs
 * in cluster mode (`node server.js`), `worker` in fork mode through npm, where PM2 stamps Node's crash printout.
 */
const PACKAGES = { backend: 'node server.js', worker: 'exec node server.js' };
let app: string;
const ports: Record<string, number> = {};
let crashedAt: number;

const SERVER = `const http = require('node:http');
const orders = new Map();
http
  .createServer((req, res) => {
    if (req.url === '/crash') {
      setTimeout(() => orders.get(req.url).id, 10);
      return res.end('crashing');
    }
    res.end('ok');
  })
  .listen(Number(process.env.PORT), () => console.log('listening'));
`;

const run = (args: string[], tz: string) =>
  opsctl(['-C', app, ...args], { env: { PM2_HOME: undefined, TZ: tz }, timeoutMs: 90_000 });

async function logsCheck(tz: string, extra: string[] = []) {
  const res = await run(['doctor', '--only', 'logs', '--json', ...extra], tz);
  const doc = JSON.parse(res.stdout) as { checks: Array<{ status: string; message: string; details?: string[] }> };
  return { exitCode: res.exitCode, ...doc.checks[0]! };
}

const home = () => join(app, '.opsctl/pm2');
const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
const errorLog = (name: string) => read(join(home(), `logs/${name}-error.log`));
const outLog = (name: string) => read(join(home(), `logs/${name}-out.log`));

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-e2e-logs-tz-'));
  const config: Record<string, { path: string; port: number }> = {};
  for (const [name, start] of Object.entries(PACKAGES)) {
    ports[name] = await freePort();
    config[name] = { path: name, port: ports[name]! };
    mkdirSync(join(app, name));
    writeFileSync(join(app, name, 'package.json'), JSON.stringify({ name, version: '1.0.0', scripts: { start } }));
    writeFileSync(join(app, name, 'server.js'), SERVER);
  }
  writeFileSync(join(app, 'opsctl.config.json'), JSON.stringify({ packages: config }));
});

afterAll(() => {
  killPm2(home());
  rmSync(app, { recursive: true, force: true });
});

describe('doctor --only logs reads PM2 stamps in the zone PM2 wrote them in', () => {
  it('crashes both apps PM2 runs in UTC', async () => {
    const deploy = await run(['deploy'], 'UTC');
    expect(deploy.exitCode, deploy.stderr).toBe(0);
    crashedAt = Date.now();
    for (const name of Object.keys(PACKAGES)) {
      await waitFor(`the first line of ${name}`, () => outLog(name).includes('listening'));
      await fetch(`http://127.0.0.1:${ports[name]}/crash`, { signal: AbortSignal.timeout(5_000) });
      await waitFor(`the crash of ${name} in its log`, () => /^(\S+: )?TypeError/m.test(errorLog(name)));
    }
    const pm2Log = () => read(join(home(), 'pm2.log'));
    await waitFor('both exits in pm2.log', () => /\[worker:\d+\] exited with code \[[1-9]/.test(pm2Log()));
  });

  it('has PM2 stamp the app lines and pm2.log with their UTC offset', () => {
    const stamp = String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00: `;
    for (const name of Object.keys(PACKAGES)) expect(outLog(name)).toMatch(new RegExp(`^${stamp}listening$`, 'm'));
    expect(errorLog('worker')).toMatch(new RegExp(`^${stamp}TypeError: Cannot read properties`, 'm'));
    expect(read(join(home(), 'pm2.log'))).toMatch(
      new RegExp(String.raw`^${stamp}PM2 log: App \[worker:\d+\] exited with code \[[1-9]`, 'm'),
    );
  });

  for (const tz of ['UTC', 'Asia/Tokyo', 'America/Los_Angeles']) {
    it(`finds both crashes from a shell in ${tz}, at the time they happened`, async () => {
      for (const extra of [[], ['--since', '10m']]) {
        const crashed = await logsCheck(tz, extra);
        expect(crashed, extra.join(' ')).toMatchObject({ exitCode: 1, status: 'fail' });
        const text = JSON.stringify(crashed);
        for (const name of Object.keys(PACKAGES)) expect(text, extra.join(' ')).toContain(`at ${name}/server.js:6`);
        const lasts = [...text.matchAll(/\(last (\S+?)\)/g)].map((m) => new Date(m[1]!).getTime());
        expect(lasts.length, text).toBeGreaterThanOrEqual(2);
        // whole seconds in the message, the machine is loaded: within two minutes of the requests, never hours off
        for (const last of lasts) expect(Math.abs(last - crashedAt), text).toBeLessThan(120_000);
      }
    });
  }
});
