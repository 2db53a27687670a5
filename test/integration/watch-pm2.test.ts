import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
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
        "console.log(`api starting, cache at ${process.env.REDIS_URL}`);",
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
    // --only config: the rounds are quick; the PM2 processes are followed between them whatever the checks
    watch = startWatch(app.dir, ['--only', 'config', '--interval', '500ms', '--json', '--announce'], { REDIS_URL });
    await watch.waitForEvents('the started event', (e) => e.some((x) => x.event === 'started'));

    const [before] = await app.instances();
    expect(before?.state).toBe('online');
    process.kill(before!.pid, 'SIGKILL');
    await watch.waitForEvents('a restart event', (e) => e.some((x) => x.event === 'restart'));

    const restart = watch.events().find((x) => x.event === 'restart')!;
    expect(restart).toMatchObject({
      check: 'processes',
      status: 'fail',
      package: 'api',
      instance: before!.pmId,
      signal: 'SIGKILL',
    });
    expect(restart.message).toMatch(/^api#\d+ restarted without opsctl asking: killed by SIGKILL$/);
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
    expect(watch.events().filter((x) => x.event === 'restart')).toHaveLength(1);

    const { code, ms } = await watch.stop('SIGINT');
    expect(code).toBe(130);
    expect(ms).toBeLessThan(1_000);
  }, 120_000);
});
