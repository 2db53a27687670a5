import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { startWatch, type WatchRun } from '../helpers/watch.js';

/** The on-call engineer's edge cases of `opsctl watch` (README, "`opsctl watch`"). */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let app: Pm2App;
let watch: WatchRun | undefined;
const leftovers: number[] = [];

beforeAll(async () => {
  app = await createPm2App('watch-edges', {
    files: { 'api/server.js': "require('node:http').createServer((q, r) => r.end('ok')).listen(process.env.PORT);\n" },
  });
  const res = await app.run(['deploy']);
  expect(res.exitCode, res.stderr).toBe(0);
}, 180_000);
afterEach(async () => {
  await watch?.stop('SIGKILL');
  watch = undefined;
});
afterAll(() => {
  // an app instance its killed daemon left behind, if any
  for (const pid of leftovers) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  app?.cleanup();
});

describe('watch and the app’s PM2 daemon', () => {
  it('the PM2 daemon killed under a running app: one fail for processes; the app deployed again: one recover', async () => {
    watch = startWatch(app.dir, ['--only', 'processes', '--interval', '500ms', '--json', '--announce']);
    await watch.waitForEvents('the started event', (e) => e.some((x) => x.event === 'started'));
    const [instance] = await app.instances();
    leftovers.push(instance!.pid);

    const home = join(app.dir, '.opsctl', 'pm2');
    process.kill(Number(readFileSync(join(home, 'pm2.pid'), 'utf8')), 'SIGKILL');
    await watch.waitForEvents('a fail event for processes', (e) => e.some((x) => x.event === 'fail'));
    const fail = watch.events().find((x) => x.event === 'fail')!;
    expect(fail).toMatchObject({ check: 'processes', status: 'fail' });
    expect(fail.message).toMatch(/^the PM2 daemon that ran api#\d+ is gone .*: the app no longer runs under PM2$/);
    expect(fail.hint).toMatch(/opsctl deploy/);
    await sleep(2_000); // several rounds with the daemon gone: nothing repeated

    const res = await app.run(['deploy']);
    expect(res.exitCode, res.stderr).toBe(0);
    await watch.waitForEvents('a recover event', (e) => e.some((x) => x.event === 'recover'));
    await sleep(1_500);
    expect(watch.events().map((x) => x.event)).toEqual(['started', 'fail', 'recover']);
    const { code, ms } = await watch.stop('SIGTERM');
    expect(code).toBe(143);
    expect(ms).toBeLessThan(1_000);
  }, 120_000);
});
