import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPortFree } from '../../src/net/free-port.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import {
  CLEAN_ENV,
  createDebugApp,
  type DebugApp,
  descendants,
  isGone,
  type Piped,
  pidIn,
  removeApp,
  startPiped,
} from '../helpers/debug-app.js';
import { freePort, startHungServer } from '../helpers/tcp.js';
import { waitFor } from '../helpers/wait.js';

// `opsctl debug` on real packages, through the built CLI without a terminal (README, "`opsctl debug`")

// several real processes per test, each waited for with a generous bound: more room than the default 60 s on a loaded host
vi.setConfig({ testTimeout: 180_000 });

const apps: DebugApp[] = [];
const running: Piped[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.pid) {
      for (const pid of descendants(p.child.pid)) process.kill(pid, 'SIGKILL');
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
  for (const app of apps.splice(0)) removeApp(app);
});

async function app(options: Parameters<typeof createDebugApp>[0] = {}): Promise<DebugApp> {
  const created = await createDebugApp(options);
  apps.push(created);
  return created;
}

function run(a: DebugApp, args: string[]) {
  return opsctl(['-C', a.dir, ...args], { env: CLEAN_ENV, timeoutMs: 90_000 });
}

const WS_LINE = /^ws:\/\/127\.0\.0\.1:(\d+)\/[0-9a-f-]+$/;

/** Start `opsctl debug` and wait for the URL on stdout. */
async function startDebug(a: DebugApp, args: string[]): Promise<{ p: Piped; url: string; port: number }> {
  const p = startPiped(a.dir, ['debug', ...args]);
  running.push(p);
  await waitFor(
    `the inspector URL on stdout (stderr so far: ${p.stderr()})`,
    () => p.stdout().includes('\n') || p.child.exitCode !== null,
    60_000,
  );
  const url = p.stdout().trim();
  const match = WS_LINE.exec(url);
  if (!match) throw new Error(`stdout was ${JSON.stringify(p.stdout())}; stderr:\n${p.stderr()}`);
  return { p, url, port: Number(match[1]) };
}

describe.each([
  ['its debug script (npm, sh, node)', 'script'],
  ['node --inspect on its entry', 'entry'],
] as const)('started through %s', (_title, mode) => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'prints the URL alone on stdout, /json/list answers; %s stops the whole tree and frees both ports (exit %i)',
    async (signal, exitCode) => {
      const inspectPort = await freePort();
      const a = await app(
        mode === 'script'
          ? {
              pkg: { scripts: { start: 'node server.js', debug: `node --inspect=127.0.0.1:${inspectPort} server.js` } },
            }
          : { config: `    debugPort: ${inspectPort}\n` },
      );
      const { p, url, port } = await startDebug(a, ['api']);
      expect(port).toBe(inspectPort);
      expect(p.stdout()).toBe(`${url}\n`);
      const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{
        webSocketDebuggerUrl: string;
      }>;
      expect(list.map((t) => t.webSocketDebuggerUrl)).toEqual([url]);
      // the package got its environment: PORT from the config
      await waitFor(
        'the app to answer on its port',
        async () => (await fetch(`http://127.0.0.1:${a.port}/`).catch(() => undefined))?.ok === true,
        30_000,
      );
      // its own output, prefixed (relayed through opsctl: it may arrive after the app answers)
      await waitFor(
        "the app's own line on stderr",
        () => p.stderr().includes(`api │ api listening on ${a.port}`),
        30_000,
      );
      const stderr = p.stderr();
      expect(stderr).toContain(
        `devtools://devtools/bundled/js_app.html?experiments=true&v8only=true&ws=${url.slice(5)}`,
      );
      expect(stderr).toContain('"request": "attach"');
      expect(stderr).toContain(`ssh -N -L ${port}:127.0.0.1:${port}`);
      const tree = descendants(p.child.pid!);
      expect(tree.length).toBeGreaterThanOrEqual(mode === 'script' ? 3 : 1); // npm, sh, node: or node alone
      const appPid = pidIn(stderr, /api \(pid (\d+)\) has its inspector/);
      expect(tree).toContain(appPid);
      p.child.kill(signal);
      expect(await p.exited).toBe(exitCode);
      for (const pid of tree) expect(isGone(pid), `pid ${pid} of the tree is still running`).toBe(true);
      expect(await isPortFree(port)).toBe(true);
      expect(await isPortFree(a.port)).toBe(true);
      expect(p.stdout()).toBe(`${url}\n`);
      expect(hasStackTrace(p.stderr())).toBe(false);
      // Ctrl-C is how a debug run ends: said plainly, not as an error to read with a "run it again" hint
      expect(p.stderr()).toContain('■ api stopped, and everything it started.');
      expect(p.stderr()).not.toMatch(/✖|Run the command again/);
    },
  );
});

it('a free inspector port is picked when the package has no debugPort, and the app env reaches it', async () => {
  const a = await app({
    files: { '.env': 'GREETING=hello-from-env\n' },
    pkg: { main: 'main.js', scripts: {} },
  });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    `${a.dir}/api/main.js`,
    "console.log('greeting=' + process.env.GREETING + ' port=' + process.env.PORT);\n" +
      'console.log(JSON.stringify({ level: 50, time: 1764425333123, pid: process.pid, msg: "lookup failed", orderId: 7 }));\n' +
      'setInterval(() => {}, 1000);\n',
  );
  const { p, port } = await startDebug(a, []);
  expect(port).toBeGreaterThan(0);
  await waitFor('the greeting line', () => p.stderr().includes('greeting='), 30_000);
  expect(p.stderr()).toContain(`api │ greeting=hello-from-env port=${a.port}`);
  // a JSON log line reads as `opsctl logs` shows it, not as raw JSON
  await waitFor('the JSON line', () => p.stderr().includes('lookup failed'), 30_000);
  expect(p.stderr()).toContain(`api │ ${new Date(1764425333123).toISOString()} ERROR lookup failed orderId=7`);
  expect(p.stderr()).not.toContain('"msg":"lookup failed"');
  p.child.kill('SIGINT');
  expect(await p.exited).toBe(130);
});

it('--json: one document when the run ends, with the URL and the interrupt', async () => {
  const a = await app();
  const p = startPiped(a.dir, ['debug', 'api', '--json']);
  running.push(p);
  await waitFor('the inspector', () => /Debugger listening on ws:/.test(p.stderr()), 60_000);
  await waitFor('the app to listen', () => p.stderr().includes('api listening'), 30_000);
  expect(p.stdout()).toBe('');
  p.child.kill('SIGINT');
  expect(await p.exited).toBe(130);
  const doc = JSON.parse(p.stdout());
  expect(doc).toMatchObject({
    command: 'debug',
    ok: false,
    exitCode: 130,
    package: 'api',
    error: { code: 'INTERRUPTED' },
  });
  expect(doc.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
});

describe('bad input', () => {
  it('an unknown package: exit 2 naming the known ones; --json one document', async () => {
    const a = await app();
    const res = await run(a, ['debug', 'nope']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('✖ Unknown package: nope.');
    expect(res.stderr).toContain('Known packages: api');
    const json = await run(a, ['debug', 'nope', '--json']);
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({
      command: 'debug',
      ok: false,
      exitCode: 2,
      error: { code: 'CONFIG' },
    });
  });

  it('a package with no entry point: exit 2 saying what to add', async () => {
    const a = await app({ pkg: { scripts: { start: 'npm run serve', serve: 'node server.js' } } });
    const res = await run(a, ['debug', 'api']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('✖ api has no entry point to debug');
    expect(res.stderr).toContain('→ Add a "debug" script');
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it('"main" naming a missing file: exit 2', async () => {
    const a = await app({ pkg: { main: 'dist/index.js' } });
    const res = await run(a, ['debug', 'api']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('api/dist/index.js does not exist');
  });

  it('the debug port already in use: exit 3 naming its holder, nothing started', async () => {
    const holder = await startHungServer();
    try {
      const a = await app({ config: `    debugPort: ${holder.port}\n` });
      const res = await run(a, ['debug', 'api']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain(`✖ api's inspector port ${holder.port} is in use by PID ${process.pid}`);
      expect(res.stderr).toContain(`kill ${process.pid}`);
      expect(res.stderr).not.toContain('api listening');
      expect(await isPortFree(a.port)).toBe(true);
    } finally {
      await holder.close();
    }
  });

  it("the package's own port in use: exit 3 naming the holder", async () => {
    const holder = await startHungServer();
    try {
      const a = await app();
      writeFileSync(`${a.dir}/opsctl.config.yaml`, `packages:\n  api:\n    path: api\n    port: ${holder.port}\n`);
      const res = await run(a, ['debug', 'api', '--json']);
      expect(res.exitCode).toBe(3);
      const doc = JSON.parse(res.stdout);
      expect(doc).toMatchObject({ exitCode: 3, error: { code: 'PORT_TAKEN' } });
      expect(doc.error.message).toContain(`api's port ${holder.port} is in use by PID ${process.pid}`);
    } finally {
      await holder.close();
    }
  });

  it('a debug script whose inspector port is taken: exit 3 naming the holder, its process stopped', async () => {
    const holder = await startHungServer();
    try {
      // the port is only known from the script's output when its flag hides it from the check (NODE_OPTIONS here)
      const a = await app({
        pkg: {
          scripts: { start: 'node server.js', debug: `NODE_OPTIONS=--inspect=127.0.0.1:${holder.port} node server.js` },
        },
      });
      const res = await run(a, ['debug', 'api']);
      expect(res.exitCode).toBe(3);
      expect(res.stderr).toContain(`inspector could not open on port ${holder.port}`);
      expect(res.stderr).toContain(`by PID ${process.pid}`);
      await waitFor('the app port to be free again', () => isPortFree(a.port), 20_000);
    } finally {
      await holder.close();
    }
  });

  it('--attach without a terminal: exit 2 saying how to attach instead, nothing started', async () => {
    const a = await app();
    const res = await run(a, ['debug', 'api', '--attach']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('✖ --attach needs a terminal');
    expect(res.stderr).toContain('node inspect 127.0.0.1:<port>');
    expect(await isPortFree(a.port)).toBe(true);
  });

  it('--host with a debug script: exit 2 (the script sets the address)', async () => {
    const a = await app({ pkg: { scripts: { debug: 'node --inspect server.js' } } });
    const res = await run(a, ['debug', 'api', '--host', '0.0.0.0']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('has a debug script');
  });

  it('several packages with a port and no terminal: exit 2 naming the choices', async () => {
    const a = await app({
      config: '  web:\n    path: web\n    port: 1\n',
      files: { 'web/package.json': JSON.stringify({ name: 'web', main: 'x.js' }) },
    });
    const res = await run(a, ['debug']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('2 packages could be debugged: api, web');
  });
});

it('--host 0.0.0.0 warns that anyone who reaches it can run code', async () => {
  const a = await app();
  const p = startPiped(a.dir, ['debug', 'api', '--host', '0.0.0.0']);
  running.push(p);
  await waitFor('the URL', () => p.stdout().includes('\n'), 60_000);
  expect(p.stdout()).toMatch(/^ws:\/\/0\.0\.0\.0:\d+\//);
  expect(p.stderr()).toContain('anyone who can reach that address can run any code');
  p.child.kill('SIGINT');
  expect(await p.exited).toBe(130);
});
