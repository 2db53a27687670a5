import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
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

const iso = (file: string, link = false) =>
  (link ? lstatSync(file) : statSync(file)).mtime.toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('logs check on real Node.js crash output', () => {
  it('groups repeated uncaught exceptions and an unhandled rejection, with count and last seen', async () => {
    const log = join(root, 'backend/logs/app.log');
    runInto(log, CRASH_ORDERS, ['17']);
    runInto(log, CRASH_ORDERS, ['42']);
    runInto(log, CRASH_ORDERS, ['99']);
    runInto(log, `Promise.reject(new Error('lost connection to 10.0.0.5:6379'))`);
    const result = await check();
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(/^2 crash signatures in 1 file since \S+Z: /);
    expect(result.message.replace(/ since \S+Z/, '')).toBe(
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
    expect(result.message).toMatch(/^1 crash signature in 2 files since \S+: TypeError: .* ×2 /);
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

  it('passes on logs without errors, saying how many files it read and since when', async () => {
    writeFileSync(join(root, 'backend/logs/app.log'), 'GET /health 200\n{"level":30,"msg":"listening"}\n');
    const result = await check();
    expect(result.status).toBe('pass');
    expect(result.message).toMatch(/^1 file scanned since \S+Z, no uncaught exceptions or unhandled rejections$/);
  });

  it('counts errors the app caught and logged as a warning, never a failure (pino err at 50, console.error)', async () => {
    // a real caught error, logged the two usual ways
    runInto(
      join(root, 'backend/logs/app.log'),
      `try { require('./routes/orders.js').show(7) } catch (err) {
        console.log(JSON.stringify({ level: 50, time: Date.now(), err: { type: err.name, message: err.message, stack: err.stack }, msg: 'order failed' }));
        console.error(err);
        process.exitCode = 1;
      }`,
    );
    const result = await check();
    expect(result.status).toBe('warn');
    expect(result.hint).toMatch(/^Errors the app caught and logged, not crashes: opsctl logs --since \d+m --grep/);
    expect(result.message).toMatch(
      /^1 file scanned since \S+Z, no uncaught exceptions or unhandled rejections; 2 logged errors$/,
    );
  });

  it('reads only the end of a big file and says so', async () => {
    const log = join(root, 'backend/logs/app.log');
    runInto(log, `throw new RangeError('early crash')`);
    appendFileSync(log, `${'GET /orders 200 '.padEnd(99, '.')}\n`.repeat(90_000)); // ~9 MB
    runInto(log, CRASH_ORDERS, ['5']);
    const result = await check();
    expect(result.message).toMatch(/^1 crash signature in 1 file since \S+: TypeError/);
    expect(result.details).toContain('only the last 8 MB of large files were read');
    expect(JSON.stringify(result)).not.toContain('early crash');
  });

  it('skips with nothing to read and warns when a glob matches nothing', async () => {
    writeConfig([]);
    expect(await check()).toMatchObject({
      status: 'skip',
      message: 'nothing to read: no PM2 logs of the app (nothing deployed) and no logs: configured',
      hint: expect.stringContaining('logs:'),
    });
    writeConfig(['backend/log/*.log']);
    expect(await check()).toMatchObject({ status: 'warn', message: 'no log file matches backend/log/*.log' });
  });

  it('a glob over the whole disk (`/**/*.log`, a typo for /var/log/**) stops at --timeout: the process exits', async () => {
    writeConfig(['/**/*.log']);
    const { opsctl } = await import('../helpers/cli.js');
    const started = performance.now();
    const res = await opsctl(['-C', root, 'doctor', '--only', 'logs', '--timeout', '1000', '--json'], {
      timeoutMs: 30_000,
    });
    // before: still walking the disk (5 GB of memory) after two minutes
    expect(performance.now() - started).toBeLessThan(8_000);
    const [logs] = JSON.parse(res.stdout).checks as Array<{ id: string; status: string; message: string }>;
    expect(logs).toMatchObject({ id: 'logs', status: 'fail' });
    expect(logs!.message).toMatch(/timed out/);
  }, 40_000);

  it('notes, without warning, a glob that matches nothing when other log files were scanned', async () => {
    writeFileSync(join(root, 'backend/logs/app.log'), '{"level":30,"msg":"listening"}\n');
    writeConfig(['backend/logs/*.log', 'worker/logs/*.log']);
    expect(await check()).toMatchObject({
      status: 'pass',
      message: expect.stringMatching(/^1 file scanned since \S+, no uncaught exceptions or unhandled rejections$/),
      details: ['worker/logs/*.log matches no file'],
    });
  });
});

/** `YYYY-MM-DDTHH:mm:ss` in local time, as PM2 stamps lines with `time: true`. */
function pm2Stamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

/** A real Node crash printout as PM2 writes it with `time: true`, stamped `at`, in the app's PM2 error log. */
function pm2Crash(at: Date, id: string): string {
  const log = join(root, '.opsctl/pm2/logs/backend-error.log');
  const res = spawnSync(process.execPath, ['-e', CRASH_ORDERS, id], { cwd: join(root, 'backend'), encoding: 'utf8' });
  mkdirSync(join(log, '..'), { recursive: true });
  writeFileSync(join(root, '.opsctl/pm2/pm2.log'), '', { flag: 'a' });
  const stamped = res.stderr
    .trimEnd()
    .split('\n')
    .map((line) => `${pm2Stamp(at)}: ${line}\n`)
    .join('');
  appendFileSync(log, stamped);
  return log;
}

describe('logs check: what it reads, and since when', () => {
  it("reads PM2's logs of the app with no logs: key in the config", async () => {
    writeFileSync(join(root, 'opsctl.config.json'), '{}');
    pm2Crash(new Date(), '3');
    const result = await check();
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(
      /^1 crash signature in 1 file since \S+: TypeError: .* at backend\/routes\/orders\.js:2 ×1 /,
    );
    expect(result.details?.[0]).toContain('in .opsctl/pm2/logs/backend-error.log');
  });

  it("reads only the app's own files in a PM2 home shared with other apps ($PM2_HOME)", async () => {
    const shared = mkdtempSync(join(tmpdir(), 'opsctl-pm2-home-'));
    try {
      mkdirSync(join(shared, 'logs'));
      runInto(join(shared, 'logs/other-app-error.log'), CRASH_ORDERS, ['1']);
      writeFileSync(join(shared, 'logs/backend-out.log'), 'listening\n');
      const result = await check({ PM2_HOME: shared });
      expect(result.status).toBe('pass');
      expect(result.message).toMatch(/^1 file scanned since /);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('ignores crashes older than --since, by their PM2 stamp, pino time, or the file time', async () => {
    const hourAgo = new Date(Date.now() - 3_600_000);
    pm2Crash(hourAgo, '1');
    writeFileSync(
      join(root, 'backend/logs/pino.log'),
      `${JSON.stringify({ level: 60, time: hourAgo.getTime(), err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (/srv/a.js:1:1)' }, msg: 'uncaughtException' })}\n`,
    );
    const old = join(root, 'backend/logs/old.log');
    runInto(old, CRASH_ORDERS, ['2']);
    utimesSync(old, hourAgo, hourAgo);
    const config = loadConfig({ cwd: root, processEnv: { PATH: process.env.PATH } });
    const recent = await logsCheck.run({ ...checkContext(config), since: new Date(Date.now() - 30 * 60_000) });
    expect(recent.status).toBe('pass');
    expect(recent.details).toContain(`1 file not written since ${recent.message.match(/since (\S+),/)![1]}`);
    const wider = await logsCheck.run({ ...checkContext(config), since: new Date(Date.now() - 2 * 3_600_000) });
    expect(wider).toMatchObject({ status: 'fail', message: expect.stringMatching(/^2 crash signatures in 3 files /) });
  });

  it('by default counts only what the current release did: a crash before the last deploy is gone', async () => {
    writeFileSync(join(root, 'opsctl.config.json'), '{}');
    pm2Crash(new Date(Date.now() - 10 * 60_000), '1');
    // deploy activates a release by pointing `current` at it (a fresh link each time)
    const release = join(root, '.opsctl/releases/backend/0123456789ab');
    mkdirSync(release, { recursive: true });
    symlinkSync(release, join(root, '.opsctl/releases/backend/current'));
    appendFileSync(join(root, '.opsctl/pm2/logs/backend-out.log'), `${pm2Stamp(new Date())}: listening\n`);
    const afterDeploy = await check();
    expect(afterDeploy.status).toBe('pass');
    expect(afterDeploy.message).toContain(`since ${iso(join(root, '.opsctl/releases/backend/current'), true)}`);
    pm2Crash(new Date(Date.now() + 1_000), '2'); // the new release crashes too
    expect((await check()).status).toBe('fail');
  });

  it('locates a crash of a release copy in the source tree', async () => {
    const release = join(root, '.opsctl/releases/backend/0123456789ab');
    cpSync(join(root, 'backend'), release, { recursive: true });
    const res = spawnSync(process.execPath, ['-e', CRASH_ORDERS, '4'], { cwd: release, encoding: 'utf8' });
    writeFileSync(join(root, 'backend/logs/app.log'), res.stderr);
    expect(res.stderr).toContain('.opsctl/releases/backend/0123456789ab/routes/orders.js:2');
    const result = await check();
    expect(result.message).toContain('at backend/routes/orders.js:2 ×1');
    expect(result.details?.join('\n')).toContain('at exports.show (backend/routes/orders.js:2:');
    expect(JSON.stringify(result)).not.toContain('0123456789ab');
  });
});
