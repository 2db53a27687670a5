import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logsCheck } from '../../src/checks/logs.js';
import { loadConfig } from '../../src/config/load.js';
import { clearSecrets } from '../../src/output/redact.js';
import { checkContext } from '../helpers/check-context.js';

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-logs-'));
  mkdirSync(join(root, 'backend/routes'), { recursive: true });
  mkdirSync(join(root, 'backend/logs'));
  writeFileSync(
    join(root, 'backend/package.json'),
    JSON.stringify({ name: 'backend', scripts: { start: 'node server.js' } }),
  );
  writeFileSync(
    join(root, 'backend/routes/orders.js'),
    'const orders = new Map();\nexports.show = (id) => orders.get(id).id;\n',
  );
  writeConfig(['backend/logs/*.log']);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  clearSecrets();
});

function writeConfig(logs: string[]): void {
  writeFileSync(join(root, 'opsctl.config.json'), JSON.stringify({ logs }));
}

/** Run a real node script and append what it prints (stdout and stderr) to a log file, as PM2 or systemd would. */
function runInto(logFile: string, script: string, args: string[] = []): void {
  const res = spawnSync(process.execPath, ['-e', script, ...args], { cwd: join(root, 'backend'), encoding: 'utf8' });
  expect(res.status).not.toBe(0);
  mkdirSync(join(logFile, '..'), { recursive: true });
  appendFileSync(logFile, `${res.stdout}${res.stderr}`);
}

const CRASH_ORDERS = `console.log('listening'); setTimeout(() => require('./routes/orders.js').show(Number(process.argv[1])), 1)`;

async function check(env: Record<string, string> = {}) {
  const config = loadConfig({ cwd: root, processEnv: { PATH: process.env.PATH, ...env } });
  return logsCheck.run(checkContext(config));
}

const iso = (file: string) =>
  statSync(file)
    .mtime.toISOString()
    .replace(/\.\d{3}Z$/, 'Z');

describe('logs check on real Node.js crash output', () => {
  it('groups repeated uncaught exceptions and an unhandled rejection, with count and last seen', async () => {
    const log = join(root, 'backend/logs/app.log');
    runInto(log, CRASH_ORDERS, ['17']);
    runInto(log, CRASH_ORDERS, ['42']);
    runInto(log, CRASH_ORDERS, ['99']);
    runInto(log, `Promise.reject(new Error('lost connection to 10.0.0.5:6379'))`);
    const result = await check();
    expect(result.status).toBe('fail');
    expect(result.message).toBe(
      `2 crash signatures in 1 file: TypeError: Cannot read properties of undefined (reading 'id') at backend/routes/orders.js:2 ×3 (last ${iso(log)}); 1 more below`,
    );
    const details = result.details!.join('\n');
    expect(details).toContain('Error: lost connection to 10.0.0.5:6379 at [eval]:1 ×1');
    expect(details).toContain('in backend/logs/app.log');
    expect(details).toContain('at exports.show');
    expect(result.hint).toMatch(/fix the code/);
  });

  it('counts crashes across files and reads PM2 logs under .opsctl', async () => {
    runInto(join(root, 'backend/logs/a.log'), CRASH_ORDERS, ['1']);
    runInto(join(root, '.opsctl/pm2/logs/backend-error.log'), CRASH_ORDERS, ['2']);
    const result = await check();
    expect(result.message).toMatch(/^1 crash signature in 2 files: TypeError: .* ×2 /);
    expect(result.details?.[0]).toContain('in .opsctl/pm2/logs/backend-error.log, backend/logs/a.log');
  });

  it('never prints a secret from a log line', async () => {
    runInto(
      join(root, 'backend/logs/app.log'),
      `throw new Error('cannot connect to postgres://shop:' + process.argv[1] + '@db:5432/shop as ' + process.argv[2])`,
      ['pa55word-xyz', 'tok-9f8e7d6c'],
    );
    const result = await check({ API_TOKEN: 'tok-9f8e7d6c' });
    const text = JSON.stringify(result);
    expect(result.status).toBe('fail');
    expect(text).toContain('postgres://shop:****@db');
    expect(text).not.toContain('pa55word-xyz');
    expect(text).not.toContain('tok-9f8e7d6c');
  });

  it('passes on logs without crashes, saying how many files it read', async () => {
    writeFileSync(join(root, 'backend/logs/app.log'), 'GET /health 200\nError: handled\n    at x (/srv/a.js:1:1)\n');
    const result = await check();
    expect(result).toMatchObject({
      status: 'pass',
      message: '1 file scanned, no uncaught exceptions or unhandled rejections',
    });
  });

  it('reads only the end of a big file and says so', async () => {
    const log = join(root, 'backend/logs/app.log');
    runInto(log, `throw new RangeError('early crash')`);
    appendFileSync(log, `${'GET /orders 200 '.padEnd(99, '.')}\n`.repeat(90_000)); // ~9 MB
    runInto(log, CRASH_ORDERS, ['5']);
    const result = await check();
    expect(result.message).toMatch(/^1 crash signature in 1 file: TypeError/);
    expect(result.details).toContain('only the last 8 MB of large files were read');
    expect(JSON.stringify(result)).not.toContain('early crash');
  });

  it('skips without logs configured and warns when a glob matches nothing', async () => {
    writeConfig([]);
    expect(await check()).toMatchObject({ status: 'skip', hint: expect.stringContaining('logs:') });
    writeConfig(['backend/log/*.log']);
    expect(await check()).toMatchObject({ status: 'warn', message: 'no log file matches backend/log/*.log' });
  });

  it('notes, without warning, a glob that matches nothing when other log files were scanned', async () => {
    writeFileSync(join(root, 'backend/logs/app.log'), '{"level":30,"msg":"listening"}\n');
    writeConfig(['backend/logs/*.log', 'worker/logs/*.log']);
    expect(await check()).toMatchObject({
      status: 'pass',
      message: '1 file scanned, no uncaught exceptions or unhandled rejections',
      details: ['worker/logs/*.log matches no file'],
    });
  });
});
