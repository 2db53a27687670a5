import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';

/** Two cluster instances; `/crash` answers with the instance's pm_id, then throws an uncaught exception in it. */
let app: Pm2App;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  app = await createPm2App('processes', {
    config: '    instances: 2\n',
    files: {
      'api/server.js': [
        "require('node:http').createServer((req, res) => {",
        "  if (req.url === '/crash') setImmediate(() => { throw new TypeError('crashed on purpose by the test'); });",
        '  res.end(String(process.env.pm_id));',
        '}).listen(process.env.PORT);',
        '',
      ].join('\n'),
    },
  });
});
afterAll(() => app?.cleanup());

describe('processes check against a real PM2', () => {
  it('a deploy and five more in a row are reloads, not crashes: pass', async () => {
    for (let i = 0; i <= 5; i++) {
      appendFileSync(join(app.dir, 'api', 'server.js'), `// release ${i}\n`);
      const res = await app.run(['deploy']);
      expect(res.exitCode, res.stderr).toBe(0);
    }
    // PM2 counts every reload as a restart: the old check called this "crash-looping"
    const list = await app.instances();
    expect(list).toHaveLength(2);
    expect(list.every((p) => p.restarts >= 5)).toBe(true);
    const check = await app.check('processes');
    expect(check.status).toBe('pass');
    expect(check.message).toMatch(/2 instances online/);
  }, 240_000);

  it('a worker killed by an uncaught exception and restarted by PM2: fail, naming the instance and its exit code', async () => {
    // a crash within PM2's kill_timeout (5 s) + 1 s of a deploy looks like the deploy's own restart (README, "doctor")
    await sleep(7_000);
    const before = await app.instances();
    const res = await fetch(`http://127.0.0.1:${app.port}/crash`);
    const crashed = Number(await res.text());
    await vi.waitFor(
      async () => {
        const now = (await app.instances()).find((p) => p.pmId === crashed);
        const was = before.find((p) => p.pmId === crashed);
        expect(now?.state).toBe('online');
        expect(now?.restarts).toBeGreaterThan(was!.restarts);
      },
      { timeout: 20_000, interval: 250 },
    );
    const check = await app.check('processes');
    expect(check.status).toBe('fail');
    expect(check.message).toBe(`api#${crashed} crashed`);
    expect(check.details?.join('\n')).toMatch(new RegExp(`api#${crashed}: crashed .*exited with code \\d+`));
    // one line per instance: the crashed one once, the other one as online
    expect(check.details?.filter((l) => l.startsWith(`api#${crashed}:`))).toHaveLength(1);
    expect(check.details?.filter((l) => / online, up /.test(l))).toHaveLength(1);
  }, 60_000);

  it('a worker killed with SIGKILL (as the out-of-memory killer does): fail, naming the signal, not "code 0"', async () => {
    const before = await app.instances();
    const victim = before.find((p) => p.state === 'online')!;
    process.kill(victim.pid, 'SIGKILL');
    await vi.waitFor(
      async () => {
        const now = (await app.instances()).find((p) => p.pmId === victim.pmId);
        expect(now?.state).toBe('online');
        expect(now?.restarts).toBeGreaterThan(victim.restarts);
      },
      { timeout: 20_000, interval: 250 },
    );
    const check = await app.check('processes');
    expect(check.status).toBe('fail');
    const line = check.details?.find((l) => l.startsWith(`api#${victim.pmId}:`));
    expect(line).toMatch(/crashed .*killed by SIGKILL \(out of memory, or kill -9\)/);
    expect(line).not.toMatch(/code 0/);
  }, 60_000);

  it("status numbers instances as doctor, logs and PM2 do (PM2's id), in its table and its JSON", async () => {
    // down to one and back to two: the new instance gets a new PM2 id, so ids and positions differ
    for (const count of ['1', '2']) {
      const res = await app.run(['scale', 'api', count]);
      expect(res.exitCode, res.stderr).toBe(0);
    }
    const ids = (await app.instances()).map((p) => p.pmId).sort();
    expect(ids).not.toEqual([0, 1]);
    const json = JSON.parse((await app.run(['status', '--json'])).stdout) as {
      packages: Array<{ name: string; instances: Array<{ id: number }> }>;
    };
    expect(
      json.packages
        .find((p) => p.name === 'api')!
        .instances.map((i) => i.id)
        .sort(),
    ).toEqual(ids);
    const table = (await app.run(['status'])).stdout.split('\n').filter((l) => /\bonline\b/.test(l));
    expect(table.map((l) => Number(/^(?:api)?\s+(\d+)\s/.exec(l)?.[1])).sort()).toEqual(ids);
    const check = await app.check('processes');
    expect(check.details?.map((l) => Number(/^api#(\d+):/.exec(l)?.[1])).sort()).toEqual(ids);
  }, 60_000);

  it('`opsctl stop api`: stopped on purpose (warn), one line per instance, no crash', async () => {
    const res = await app.run(['stop', 'api']);
    expect(res.exitCode, res.stderr).toBe(0);
    const check = await app.check('processes');
    expect(check.status).toBe('warn');
    expect(check.message).toMatch(/stopped on purpose/);
    expect(check.message).not.toMatch(/crash/);
    expect(check.details).toHaveLength(2);
    expect(check.details?.map((l) => l.split(':')[0]).sort()).toEqual(
      (await app.instances()).map((p) => `api#${p.pmId}`).sort(),
    );
  }, 60_000);
});
