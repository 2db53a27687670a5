import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/net/free-port.js';
import { opsctl } from '../helpers/cli.js';
import { killPm2 } from '../helpers/pm2-kill.js';
import { waitFor } from '../helpers/wait.js';

/**
 * doctor's logs check against a real app under real PM2 in cluster mode (opsctl's mode for `node server.js`), where
 * PM2's own handler writes an uncaught exception as a bare stack.
 */
let app: string;
let port: number;

const SERVER = `const http = require('node:http');
const orders = new Map();
http
  .createServer((req, res) => {
    if (req.url === '/crash') {
      setTimeout(() => orders.get(req.url).id, 10);
      return res.end('crashing');
    }
    if (req.url === '/handled') {
      try {
        orders.get(req.url).total();
      } catch (err) {
        console.log(JSON.stringify({ level: 50, time: Date.now(), err: { type: err.name, message: err.message, stack: err.stack }, msg: 'order failed' }));
        console.error(err);
        res.statusCode = 500;
        return res.end('failed');
      }
    }
    res.end('ok');
  })
  .listen(Number(process.env.PORT), () => console.log('listening'));
`;

const run = (args: string[]) => opsctl(['-C', app, ...args], { env: { PM2_HOME: undefined }, timeoutMs: 90_000 });

async function logsCheck(extra: string[] = []) {
  const res = await run(['doctor', '--only', 'logs', '--json', ...extra]);
  const doc = JSON.parse(res.stdout) as { checks: Array<{ status: string; message: string; details?: string[] }> };
  return { exitCode: res.exitCode, ...doc.checks[0]! };
}

async function get(path: string): Promise<void> {
  await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
}

const errorLog = () => join(app, '.opsctl/pm2/logs/backend-error.log');
const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-e2e-logs-pm2-'));
  port = await freePort();
  mkdirSync(join(app, 'backend'));
  writeFileSync(
    join(app, 'backend/package.json'),
    JSON.stringify({ name: 'backend', version: '1.0.0', scripts: { start: 'node server.js' } }),
  );
  writeFileSync(join(app, 'backend/server.js'), SERVER);
  // no logs: key: PM2's logs of the app are read all the same
  writeFileSync(join(app, 'opsctl.config.json'), JSON.stringify({ packages: { backend: { path: 'backend', port } } }));
});

afterAll(() => {
  killPm2(join(app, '.opsctl/pm2'));
  rmSync(app, { recursive: true, force: true });
});

describe('opsctl doctor --only logs on an app under PM2 (cluster mode)', () => {
  it('passes after a clean deploy, warns (never fails) on errors the app handled and logged', async () => {
    const deploy = await run(['deploy']);
    expect(deploy.exitCode, deploy.stderr).toBe(0);
    expect(await logsCheck()).toMatchObject({ exitCode: 0, status: 'pass' });

    await get('/handled');
    await waitFor('the handled error in the log', () => read(errorLog()).includes('total'));
    const handled = await logsCheck();
    expect(handled).toMatchObject({ exitCode: 0, status: 'warn' });
    expect(handled.message).toMatch(/no uncaught exceptions or unhandled rejections; 2 logged errors$/);
  });

  it('fails on the uncaught TypeError PM2 wrote as a bare stack, located in the source tree', async () => {
    await get('/crash');
    await waitFor('the crash in the log', () => /^TypeError/m.test(read(errorLog())));
    const crashed = await logsCheck();
    expect(crashed).toMatchObject({ exitCode: 1, status: 'fail' });
    expect(crashed.message).toMatch(
      /^1 crash signature in \d files? since \S+: TypeError: Cannot read properties of undefined \(reading 'id'\) at backend\/server\.js:6 ×1 /,
    );
    expect(JSON.stringify(crashed)).not.toMatch(/releases\/backend\/[0-9a-f]{12}/);
  });

  it('forgets a crash from before the next deploy; --since brings it back', async () => {
    const redeploy = await run(['deploy', '--force']);
    expect(redeploy.exitCode, redeploy.stderr).toBe(0);
    expect(await logsCheck()).toMatchObject({ exitCode: 0, status: 'pass' });
    expect(await logsCheck(['--since', '1h'])).toMatchObject({ exitCode: 1, status: 'fail' });
  });
});
