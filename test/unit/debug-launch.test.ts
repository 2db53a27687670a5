import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  devtoolsUrl,
  nodeInspectCommand,
  parseBindFailure,
  parseListening,
  vscodeAttach,
} from '../../src/debug/inspector-url.js';
import { exposureWarning, planLaunch } from '../../src/debug/launch.js';
import { loadPty } from '../../src/debug/pty-session.js';
import { isOpsError } from '../../src/errors.js';
import type { AppPackage } from '../../src/packages/types.js';
import { appPackage } from '../helpers/check-context.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function pkg(over: Partial<AppPackage> = {}, files: string[] = ['server.js']): AppPackage {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-debug-unit-'));
  dirs.push(dir);
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), '');
  }
  return appPackage({ name: 'backend', dir, path: 'backend', scripts: { start: 'node server.js' }, ...over });
}

const noFreePort = () => Promise.reject(new Error('no free port should be needed'));

describe('planLaunch', () => {
  it('runs the debug script when there is one, reading its --inspect address', async () => {
    const launch = await planLaunch(pkg({ scripts: { debug: 'node --inspect=127.0.0.1:9333 server.js' } }), {
      freePort: noFreePort,
    });
    expect(launch).toMatchObject({ kind: 'script', command: 'npm', args: ['run', 'debug'], inspect: { port: 9333 } });
  });

  it('else node --inspect on the start script file, at debugPort on loopback', async () => {
    const launch = await planLaunch(pkg({ debugPort: 9400 }), { freePort: noFreePort });
    expect(launch).toMatchObject({
      kind: 'entry',
      command: process.execPath,
      args: ['--inspect=127.0.0.1:9400', 'server.js'],
    });
  });

  it('"main" wins over the start script; --port over debugPort; a free port without either', async () => {
    const withMain = pkg({ main: 'lib/index.js', debugPort: 9400 }, ['lib/index.js']);
    expect((await planLaunch(withMain, { port: 9500, freePort: noFreePort })).args).toEqual([
      '--inspect=127.0.0.1:9500',
      'lib/index.js',
    ]);
    expect((await planLaunch(pkg(), { freePort: async () => 41234 })).args[0]).toBe('--inspect=127.0.0.1:41234');
  });

  it('--host is used as given (IPv6 in brackets)', async () => {
    const launch = await planLaunch(pkg(), { host: '::', port: 9229, freePort: noFreePort });
    expect(launch.args[0]).toBe('--inspect=[::]:9229');
  });

  it("an inspector port that is the package's own port (--port or debugPort) is a usage error (exit 2)", async () => {
    for (const [p, port] of [
      [pkg({ port: 4000 }), 4000],
      [pkg({ port: 4000, debugPort: 4000 }), undefined],
    ] as const) {
      const error = await planLaunch(p, { port, freePort: noFreePort }).catch((e: unknown) => e);
      expect(isOpsError(error) && error.exitCode).toBe(2);
      expect(isOpsError(error) && error.message).toBe(
        "The inspector port 4000 is backend's own port (packages.backend.port): they cannot share it.",
      );
    }
  });

  it('no entry point, or a missing one, is a usage error (exit 2)', async () => {
    for (const p of [pkg({ scripts: { start: 'npm run serve' } }), pkg({ main: 'dist/index.js' })]) {
      const error = await planLaunch(p, { freePort: noFreePort }).catch((e: unknown) => e);
      expect(isOpsError(error) && error.exitCode).toBe(2);
    }
  });
});

describe('inspector addresses', () => {
  const address = { url: 'ws://127.0.0.1:9229/0f2c9d1e-aaaa-bbbb-cccc-1234567890ab', host: '127.0.0.1', port: 9229 };

  it("reads Node's announcement and its bind failure", () => {
    expect(parseListening(`Debugger listening on ${address.url}`)).toEqual(address);
    expect(parseListening('Debugger listening on ws://[::1]:9230/abc')).toMatchObject({ host: '::1', port: 9230 });
    expect(parseListening('listening on 4000')).toBeUndefined();
    expect(parseBindFailure('Starting inspector on 127.0.0.1:9229 failed: address already in use')).toEqual({
      host: '127.0.0.1',
      port: 9229,
      reason: 'address already in use',
    });
  });

  it('DevTools URL, node inspect (host:port, never the ws URL) and a VS Code attach configuration', () => {
    expect(devtoolsUrl(address)).toBe(
      'devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws=127.0.0.1:9229/0f2c9d1e-aaaa-bbbb-cccc-1234567890ab',
    );
    expect(nodeInspectCommand(address)).toBe('node inspect 127.0.0.1:9229');
    expect(vscodeAttach(address, { name: 'backend', dir: '/srv/shop/backend' }, '/srv/shop')).toMatchObject({
      type: 'node',
      request: 'attach',
      address: '127.0.0.1',
      port: 9229,
      localRoot: '${workspaceFolder}/backend',
      remoteRoot: '/srv/shop/backend',
    });
  });

  it('warns only for an inspector beyond loopback', () => {
    expect(exposureWarning('backend', '127.0.0.1', 9229)).toBeUndefined();
    expect(exposureWarning('backend', '0.0.0.0', 9229)).toContain('anyone who can reach that address');
  });
});

describe('loadPty', () => {
  it('loads node-pty (built on install here)', async () => {
    const loaded = await loadPty();
    expect(loaded.ok).toBe(true);
  });

  it('says why when node-pty cannot load, instead of throwing', async () => {
    const loaded = await loadPty(() =>
      Promise.reject(new Error('Failed to load native module: pty.node\n    at loadNativeModule')),
    );
    expect(loaded).toEqual({ ok: false, reason: 'Failed to load native module: pty.node' });
  });
});
