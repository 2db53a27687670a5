import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { sample, scrape } from '../helpers/prometheus.js';
import { freePort } from '../helpers/tcp.js';
import { waitFor } from '../helpers/wait.js';
import { startWatch, type WatchRun } from '../helpers/watch.js';

/** One fork-mode instance that prints the Redis URL it was given (with its password) when it starts. */
const PASSWORD = 'pm2-watch-pw-Qe5r8Tn2';
const REDIS_URL = `redis://:${PASSWORD}@127.0.0.1:1`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let app: Pm2App;
let watch: WatchRun | undefined;

beforeAll(async () => {
  app = await createPm2App('watch-pm2', {
    files: {
      'api/server.js': [
        'console.log(`api starting, cache at ${process.env.REDIS_URL}`);',
        "require('node:http').createServer((req, res) => res.end('ok')).listen(process.env.PORT);",
        '',
      ].join('\n'),
    },
  });
  const res = await app.run(['deploy'], { REDIS_URL });
  expect(res.exitCode, res.stderr).toBe(0);
}, 180_000);
afterEach(async () => {
  await watch?.stop('SIGKILL');
  watch = undefined;
});
afterAll(() => app?.cleanup());

describe('watch follows the app’s PM2', () => {
  it('an instance killed with SIGKILL: one restart event naming the package and the signal; opsctl restart: none', async () => {
    // with the processes check in the rounds: the crash is one restart event, not a restart and a fail
    const metricsPort = await freePort();
    watch = startWatch(
      app.dir,
      ['--only', 'processes', '--interval', '60s', '--json', '--announce', '--metrics', String(metricsPort)],
      { REDIS_URL },
    );
    await watch.waitForEvents('the started event', (e) => e.some((x) => x.event === 'started'));

    const [before] = await app.instances();
    expect(before?.state).toBe('online');
    process.kill(before!.pid, 'SIGKILL');
    // between rounds (60 s apart): seen from the PM2 daemon's log, well before the next round
    await watch.waitForEvents('a restart event', (e) => e.some((x) => x.event === 'restart'), 20_000);

    const restart = watch.events().find((x) => x.event === 'restart')!;
    expect(restart).toMatchObject({
      check: 'processes',
      status: 'fail',
      package: 'api',
      instance: before!.pmId,
      signal: 'SIGKILL',
    });
    expect(restart.message).toMatch(
      /^api#\d+ restarted without opsctl asking: killed by SIGKILL \(out of memory, or kill -9\)$/,
    );
    expect(restart.text).toMatch(/RESTART processes: api#\d+ restarted/);
    // the last log lines, with the Redis URL's password masked
    const tail = (restart.logTail as string[]).join('\n');
    expect(tail).toMatch(/api starting, cache at redis:\/\/:\*\*\*\*@127\.0\.0\.1:1/);
    expect(watch.stdout()).not.toContain(PASSWORD);
    expect(watch.stderr()).not.toContain(PASSWORD);

    // opsctl's own restart bumps PM2's restart counter too: not an alert
    const res = await app.run(['restart', 'api'], { REDIS_URL });
    expect(res.exitCode, res.stderr).toBe(0);
    const after = (await app.instances())[0]!;
    expect(after.restarts).toBeGreaterThan(before!.restarts + 1);
    await sleep(3_000); // several looks at PM2
    expect(watch.events().map((x) => x.event)).toEqual(['started', 'restart']);

    // the metrics endpoint: PM2's count, memory and CPU per instance, and the check's status
    const labels = { package: 'api', instance: String(after.pmId) };
    const metrics = `http://127.0.0.1:${metricsPort}/metrics`;
    await expect
      .poll(async () => sample((await scrape(metrics)).families, 'opsctl_pm2_restarts', labels), { timeout: 20_000 })
      .toBe(after.restarts);
    const { families } = await scrape(metrics);
    expect(sample(families, 'opsctl_process_memory_bytes', labels)).toBeGreaterThan(1_000_000);
    expect(sample(families, 'opsctl_process_cpu_percent', labels)).toBeGreaterThanOrEqual(0);
    expect(sample(families, 'opsctl_check_up', { check: 'processes' })).toBe(1);

    const { code, ms } = await watch.stop('SIGINT');
    expect(code).toBe(130);
    expect(ms).toBeLessThan(1_000);
  }, 120_000);

  it('--daemon: runs under the app’s PM2 as opsctl-watch, shown by status, alerting from there; stop opsctl-watch ends it', async () => {
    const res = await app.run(
      ['watch', '--daemon', '--only', 'config', '--interval', '500ms', '--json', '--announce'],
      {
        REDIS_URL,
      },
    );
    expect(res.exitCode, res.stderr).toBe(0);
    // --json applies to the watcher's event lines and to this command's own document
    expect(JSON.parse(res.stdout)).toMatchObject({ command: 'watch', ok: true, watcher: { name: 'opsctl-watch' } });
    const status = JSON.parse((await app.run(['status', '--json'])).stdout);
    const row = status.packages.find((p: { name: string }) => p.name === 'opsctl-watch');
    expect(row).toMatchObject({ watcher: true, instances: [expect.objectContaining({ state: 'online' })] });
    // not an orphan, not a package: the processes check does not count it
    expect(status.packages.filter((p: { orphan?: boolean }) => p.orphan)).toEqual([]);

    const log = join(app.dir, '.opsctl', 'pm2', 'logs', 'opsctl-watch-out.log');
    const logText = () => (existsSync(log) ? readFileSync(log, 'utf8') : '');
    await waitFor(`the watcher's started event in ${log}`, () => logText().includes('"event":"started"'), 30_000);
    const [api] = await app.instances();
    process.kill(api!.pid, 'SIGKILL');
    await waitFor(`the watcher's restart event in ${log}`, () => logText().includes('"event":"restart"'), 30_000);
    expect(logText()).not.toContain(PASSWORD);

    const stop = await app.run(['stop', 'opsctl-watch', '--json']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout).packages).toEqual([{ name: 'opsctl-watch', action: 'stopped', instances: 1 }]);
    const after = JSON.parse((await app.run(['status', '--json'])).stdout);
    expect(after.packages.map((p: { name: string }) => p.name)).toEqual(['api']);
  }, 120_000);
});
