import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { waitFor } from '../helpers/wait.js';

/**
 * `deploy --rollback` interrupted while the release it puts back proves itself: the running release comes back and
 * nothing is recorded as rolled back (README, "Provenance"; "nothing half-done"). Real PM2, real signals.
 */
let app: Pm2App;
const children: ChildProcess[] = [];
// v1 takes 25 s to listen once the marker exists (outside the release folder, so every copy sees it)
const server = (version: string, marker: string) =>
  `const start = () => require('node:http').createServer((q, s) => s.end('${version}')).listen(process.env.PORT);\n` +
  `if (require('node:fs').existsSync(${JSON.stringify(marker)})) setTimeout(start, 25000); else start();\n`;
let marker: string;

beforeAll(async () => {
  app = await createPm2App('rollback-int', { files: {} });
  marker = join(app.dir, 'slow-marker');
}, 60_000);
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});
afterAll(() => app?.cleanup());

const body = async () => {
  try {
    return await (await fetch(`http://127.0.0.1:${app.port}/`)).text();
  } catch {
    return '';
  }
};
/** `running` (serving v2) is current, live and not marked as a rollback. */
async function expectStillRunning(running: string): Promise<void> {
  expect(current()).toBe(running);
  await waitFor('the running release to serve', async () => (await body()) === 'v2', 30_000);
  const status = JSON.parse((await app.run(['status', '--json'])).stdout).packages[0];
  expect(status.release).toBe(running);
  expect(status.rolledBack).toBeUndefined();
}
const current = () => basename(readlinkSync(join(app.dir, '.opsctl', 'releases', 'api', 'current')));

describe('deploy --rollback with nothing good to go back to', () => {
  it('not deployed, then one release only: exit 3, nothing changed', async () => {
    writeFileSync(join(app.dir, 'api', 'server.js'), server('v1', marker));
    const none = await app.run(['deploy', '--rollback', '--json']);
    expect(none.exitCode).toBe(3);
    expect(JSON.parse(none.stdout).error.code).toBe('NOT_DEPLOYED');
    expect((await app.run(['deploy'])).exitCode).toBe(0);
    const running = current();
    const one = await app.run(['deploy', '--rollback', '--json']);
    expect(one.exitCode).toBe(3);
    expect(JSON.parse(one.stdout).error).toMatchObject({
      code: 'NO_EARLIER_RELEASE',
      message: `api has no earlier release kept to go back to (running ${running}).`,
    });
    expect(current()).toBe(running);
    expect(await body()).toBe('v1');
  }, 120_000);

  it('the earlier release crashes when put back: the running one comes back, exit 3 with its log lines', async () => {
    const crash = join(app.dir, 'crash-marker');
    writeFileSync(
      join(app.dir, 'api', 'server.js'),
      `if (require('node:fs').existsSync(${JSON.stringify(crash)})) { console.error('v0 cannot start: no such table'); process.exit(1); }\n${server('v0', marker)}`,
    );
    expect((await app.run(['deploy'])).exitCode).toBe(0);
    writeFileSync(join(app.dir, 'api', 'server.js'), server('v2', marker));
    expect((await app.run(['deploy'])).exitCode).toBe(0);
    const running = current();
    writeFileSync(crash, '');
    try {
      const res = await app.run(['deploy', '--rollback', '--json']);
      expect(res.exitCode).toBe(3);
      const doc = JSON.parse(res.stdout);
      expect(doc).toMatchObject({ rollback: true, packages: [] });
      expect(doc.error.message).toContain('v0 cannot start: no such table');
      expect(doc.error.hint).toContain(`Release ${running} was put back`);
      await expectStillRunning(running);
    } finally {
      rmSync(crash, { force: true });
    }
  }, 180_000);
});

describe('deploy --rollback interrupted', () => {
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    it(`${signal} while the earlier release proves itself: the running one is put back, nothing marked`, async () => {
      writeFileSync(join(app.dir, 'api', 'server.js'), server('v1', marker));
      expect((await app.run(['deploy'])).exitCode).toBe(0);
      writeFileSync(join(app.dir, 'api', 'server.js'), server('v2', marker));
      expect((await app.run(['deploy'])).exitCode).toBe(0);
      const running = current();
      expect(await body()).toBe('v2');
      writeFileSync(marker, '');
      try {
        const child = spawn(process.execPath, [BIN, '-C', app.dir, 'deploy', '--rollback', '--json'], {
          env: { ...process.env, PM2_HOME: undefined, NO_COLOR: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        let stdout = '';
        child.stdout!.on('data', (c: Buffer) => (stdout += c));
        await waitFor(
          'the earlier release to be activated',
          () => existsSync(join(app.dir, '.opsctl')) && current() !== running,
        );
        await new Promise((r) => setTimeout(r, 1500));
        child.kill(signal);
        const [exitCode] = await once(child, 'exit');
        expect(exitCode).toBe(code);
        const doc = JSON.parse(stdout);
        expect(doc).toMatchObject({ ok: false, exitCode: code, rollback: true, packages: [] });
        expect(doc.error.hint).toContain(`${running} was put back`);
        await expectStillRunning(running);
      } finally {
        rmSync(marker, { force: true });
      }
    }, 180_000);
  }
});
