import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPortFree } from '../../src/net/free-port.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import {
  CLEAN_ENV,
  createDebugApp,
  type DebugApp,
  descendants,
  isGone,
  type OnPty,
  type Piped,
  pidIn,
  removeApp,
  startOnPty,
  startPiped,
} from '../helpers/debug-app.js';
import { freePort } from '../helpers/tcp.js';
import { waitFor } from '../helpers/wait.js';

// `opsctl debug` and `opsctl debug attach` at the edges an operator hits on call (README, "`opsctl debug`")

// several real processes per test, each waited for with a generous bound: more room than the default 60 s on a loaded host
vi.setConfig({ testTimeout: 180_000 });

const apps: DebugApp[] = [];
const running: Piped[] = [];
const terms: OnPty[] = [];
const children: ChildProcess[] = [];
/** Every process a test saw in a tree it started: killed afterwards, whatever the test left behind. */
const seen: number[] = [];
afterEach(async () => {
  for (const t of terms.splice(0)) {
    try {
      t.term.kill('SIGKILL');
    } catch {
      // exited already
    }
  }
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.pid) {
      seen.push(...descendants(p.child.pid));
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  for (const pid of seen.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const app of apps.splice(0)) removeApp(app);
});

async function app(options: Parameters<typeof createDebugApp>[0] = {}): Promise<DebugApp> {
  const created = await createDebugApp(options);
  apps.push(created);
  return created;
}

const scriptApp = (inspectPort: number) =>
  app({ pkg: { scripts: { start: 'node server.js', debug: `node --inspect=127.0.0.1:${inspectPort} server.js` } } });

describe('the terminal going away (SIGHUP: a closed window, a dropped SSH session)', () => {
  it('stops the whole tree it started (npm, sh, node) and frees both ports', async () => {
    const inspectPort = await freePort();
    const a = await scriptApp(inspectPort);
    const p = startPiped(a.dir, ['debug', 'api']);
    running.push(p);
    await waitFor(`the URL on stdout (stderr: ${p.stderr()})`, () => p.stdout().includes('\n'), 60_000);
    await waitFor('the app to listen', () => p.stderr().includes(`api listening on ${a.port}`), 30_000);
    const tree = descendants(p.child.pid!);
    seen.push(...tree);
    expect(tree.length).toBeGreaterThanOrEqual(3);
    p.child.kill('SIGHUP');
    expect(await p.exited).toBe(129);
    await waitFor('the tree to be gone', () => tree.every(isGone), 20_000);
    expect(await isPortFree(inspectPort)).toBe(true);
    expect(await isPortFree(a.port)).toBe(true);
    expect(p.stderr()).toContain('✖ Hung up (SIGHUP)');
    expect(hasStackTrace(p.stderr())).toBe(false);
  });

  it('during an --attach session too', async () => {
    const inspectPort = await freePort();
    const a = await scriptApp(inspectPort);
    const t = startOnPty(a.dir, ['debug', 'api', '--attach']);
    terms.push(t);
    await t.waitFor('debug>', 0, 60_000);
    const appPid = pidIn(t.output(), /api \(pid (\d+)\) has its inspector/);
    seen.push(appPid, ...descendants(t.term.pid));
    process.kill(t.term.pid, 'SIGHUP');
    await t.exited;
    await waitFor('the package to be stopped', () => isGone(appPid), 20_000);
    expect(await isPortFree(inspectPort)).toBe(true);
    expect(await isPortFree(a.port)).toBe(true);
  });
});

describe('--host', () => {
  it.each(['foo bar', 'no-such-host.invalid', '-x', ''])(
    '%j, which is no address of this host: exit 2 at once, nothing started',
    async (host) => {
      const a = await app({ pkg: { main: 'server.js' } });
      const res = await opsctl(['-C', a.dir, 'debug', 'api', '--host', host], { env: CLEAN_ENV, timeoutMs: 90_000 });
      expect(res.exitCode).toBe(2);
      expect(res.stderr).toContain(`✖ --host ${JSON.stringify(host)} is not an address`);
      expect(res.stderr).toContain('→ ');
      expect(res.stderr).not.toContain('api listening');
      expect(hasStackTrace(res.stderr)).toBe(false);
      const json = await opsctl(['-C', a.dir, 'debug', 'api', '--host', host, '--json'], { env: CLEAN_ENV });
      expect(json.exitCode).toBe(2);
      expect(JSON.parse(json.stdout)).toMatchObject({ command: 'debug', ok: false, exitCode: 2 });
    },
  );

  it('an address this host does not have: exit 3 saying so, not "stop that process"', async () => {
    const a = await app({ pkg: { main: 'server.js' } });
    // TEST-NET-1 (RFC 5737): a valid address that no machine here has
    const res = await opsctl(['-C', a.dir, 'debug', 'api', '--host', '192.0.2.1'], {
      env: CLEAN_ENV,
      timeoutMs: 90_000,
    });
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('(address not available)');
    expect(res.stderr).toContain('192.0.2.1 is not an address of this host');
    expect(res.stderr).not.toContain('Stop that process');
    await waitFor('the app port to be free again', () => isPortFree(a.port), 20_000);
  });
});

describe('debug attach --pid when the port SIGUSR1 opens is held', () => {
  it("by another process' inspector (a PM2 cluster's instance 0): exit 3 naming it, advice to attach to it or close it", async () => {
    const port = await freePort();
    // the first one has its inspector open on the port; the second opens its own there on SIGUSR1
    const first = spawn(process.execPath, [`--inspect=127.0.0.1:${port}`, '-e', 'setInterval(() => {}, 1000)']);
    const second = spawn(process.execPath, [`--inspect-port=127.0.0.1:${port}`, '-e', 'setInterval(() => {}, 1000)']);
    children.push(first, second);
    let firstStderr = '';
    first.stderr!.on('data', (d) => (firstStderr += d));
    await waitFor('the first inspector', () => firstStderr.includes('Debugger listening'), 30_000);
    const res = await opsctl(['debug', 'attach', '--pid', String(second.pid)], { env: CLEAN_ENV, timeoutMs: 90_000 });
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain(
      `✖ PID ${second.pid} did not open its inspector within 15 s of SIGUSR1: port ${port} is in use by the inspector of PID ${first.pid}`,
    );
    expect(res.stderr).toContain(`attach to that one (\`opsctl debug attach --port ${port}\`)`);
    expect(res.stderr).not.toContain('Stop that process');
    expect(second.exitCode).toBeNull();
    expect(first.exitCode).toBeNull();
  });
});

describe('secrets in the scripts npm echoes', () => {
  it('an inline API_TOKEN=… in the debug script (or a script it runs) is masked in every output, --json too', async () => {
    const inspectPort = await freePort();
    const token = 'sk_live_4f9a8b7c6d5e';
    const password = 'hunter2-in-a-script';
    const a = await app({
      pkg: {
        scripts: {
          start: 'node server.js',
          debug: 'npm run serve',
          serve: `API_TOKEN=${token} DB_PASSWORD='${password}' node --inspect=127.0.0.1:${inspectPort} server.js`,
        },
      },
    });
    for (const json of [false, true]) {
      const p = startPiped(a.dir, ['debug', 'api', ...(json ? ['--json'] : [])]);
      running.push(p);
      await waitFor(`the app to listen (stderr: ${p.stderr()})`, () => p.stderr().includes('api listening'), 60_000);
      p.child.kill('SIGINT');
      expect(await p.exited).toBe(130);
      const all = p.stdout() + p.stderr();
      expect(all).toContain('API_TOKEN=**** ');
      expect(all).not.toContain(token);
      expect(all).not.toContain(password);
    }
  });
});

describe('debug attach --pid: the VS Code configuration', () => {
  it("maps the process' own folder (not the folder opsctl runs in)", async () => {
    const a = await app();
    const port = await freePort();
    const child = spawn(process.execPath, [`--inspect-port=127.0.0.1:${port}`, 'server.js'], {
      cwd: `${a.dir}/api`,
      env: { ...process.env, PORT: String(a.port) },
    });
    children.push(child);
    await waitFor('the process to listen', async () => !(await isPortFree(a.port)), 30_000);
    const res = await opsctl(['debug', 'attach', '--pid', String(child.pid)], { env: CLEAN_ENV, timeoutMs: 90_000 });
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toContain(`"remoteRoot": "${a.dir}/api"`);
    expect(res.stderr).not.toContain(`PID ${child.pid} (pid ${child.pid})`);
    expect(child.exitCode).toBeNull();
  });
});

describe('debug attach <package>: the VS Code configuration', () => {
  it('maps the folder the running process works in (a release folder), not the source folder', async () => {
    const a = await app();
    const inspectPort = await freePort();
    // the package as deploy runs it: a copy of its folder elsewhere (a release), holding the package's port
    const release = `${a.dir}/.opsctl/releases/api/abc123`;
    mkdirSync(release, { recursive: true });
    cpSync(`${a.dir}/api`, release, { recursive: true });
    const child = spawn(process.execPath, [`--inspect-port=127.0.0.1:${inspectPort}`, 'server.js'], {
      cwd: release,
      env: { ...process.env, PORT: String(a.port) },
    });
    children.push(child);
    await waitFor('the process to listen', async () => !(await isPortFree(a.port)), 30_000);
    const res = await opsctl(['-C', a.dir, 'debug', 'attach', 'api'], { env: CLEAN_ENV, timeoutMs: 90_000 });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toContain('"localRoot": "${workspaceFolder}/api"');
    expect(res.stderr).toContain(`"remoteRoot": "${release}"`);
    expect(await (await fetch(`http://127.0.0.1:${a.port}/`)).text()).toBe(String(child.pid));
  });
});

describe('debug attach --pid of a process that only calls itself node', () => {
  it('is judged by its executable: exit 2, and no SIGUSR1 (which would kill it)', async () => {
    const child = spawn('sleep', ['300'], { argv0: 'node' });
    children.push(child);
    await waitFor('the process to run', () => child.pid !== undefined, 10_000);
    const res = await opsctl(['debug', 'attach', '--pid', String(child.pid)], { env: CLEAN_ENV, timeoutMs: 90_000 });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(`✖ PID ${child.pid} is not a Node.js process`);
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
  });
});
