import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isPortFree } from '../../src/net/free-port.js';
import { pm2Bin } from '../../src/pm2/cli.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import {
  CLEAN_ENV,
  createDebugApp,
  type DebugApp,
  isGone,
  type OnPty,
  pidIn,
  removeApp,
  startOnPty,
} from '../helpers/debug-app.js';
import { killPm2 } from '../helpers/pm2-kill.js';
import { freePort } from '../helpers/tcp.js';
import { waitFor } from '../helpers/wait.js';

// Interactive debugger sessions through a real pseudo-terminal (node-pty on the test side): README, "`opsctl debug`"

// several real processes per test, each waited for with a generous bound: more room than the default 60 s on a loaded host
vi.setConfig({ testTimeout: 180_000 });

const apps: DebugApp[] = [];
const terms: OnPty[] = [];
const children: ChildProcess[] = [];
const pm2Homes: string[] = [];
afterEach(async () => {
  for (const t of terms.splice(0)) {
    try {
      t.term.kill('SIGKILL');
    } catch {
      // exited already
    }
  }
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  }
  for (const home of pm2Homes.splice(0)) killPm2(home);
  for (const app of apps.splice(0)) removeApp(app);
});

async function app(options: Parameters<typeof createDebugApp>[0] = {}): Promise<DebugApp> {
  const created = await createDebugApp(options);
  apps.push(created);
  return created;
}

function onPty(cwd: string, args: string[], nodeArgs: string[] = []): OnPty {
  const t = startOnPty(cwd, args, {}, nodeArgs);
  terms.push(t);
  return t;
}

/** In a session: `exec process.pid` must answer with the debugged process' pid (the command went through). */
async function execPid(t: OnPty): Promise<number> {
  await t.waitFor('debug>');
  const from = t.output().length;
  t.term.write('exec process.pid\r');
  // node inspect colours the number: compare the text without its escape sequences
  const answer = () => /exec process\.pid\s+(\d+)\s/.exec(plain(t.output().slice(from)));
  await waitFor(
    `the answer to exec process.pid; the terminal showed:\n${t.output().slice(from)}`,
    () => answer() !== null,
    30_000,
  );
  return Number(answer()![1]);
}

function plain(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the terminal's escape sequences
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
}

/** A Node.js process started without --inspect (its SIGUSR1 inspector port set, so no test takes 9229). */
async function plainNode(): Promise<{ child: ChildProcess; inspectPort: number }> {
  const inspectPort = await freePort();
  const child = spawn(
    process.execPath,
    [`--inspect-port=127.0.0.1:${inspectPort}`, '-e', "console.log('ready'); setInterval(() => {}, 1000)"],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  await once(child.stdout!, 'data');
  return { child, inspectPort };
}

describe('opsctl debug --attach', () => {
  it('opens node inspect on a terminal: the debug> prompt, a command goes through, .exit ends it and stops the package', async () => {
    const a = await app();
    const t = onPty(a.dir, ['debug', 'api', '--attach']);
    await t.waitFor('debug>', 0, 60_000);
    const appPid = pidIn(t.output(), /api \(pid (\d+)\) has its inspector/);
    const port = Number(/on 127\.0\.0\.1:(\d+)/.exec(t.output())![1]);
    expect(await execPid(t)).toBe(appPid);
    // raw mode: Ctrl-C reaches the debugger (its REPL asks for a second one), not opsctl, and nothing is stopped
    const beforeCtrlC = t.output().length;
    t.term.write('\x03');
    await t.waitFor('press Ctrl+C again', beforeCtrlC);
    expect(isGone(appPid)).toBe(false);
    expect(await execPid(t)).toBe(appPid);
    t.term.write('.exit\r');
    // what the terminal shows is awaited, not read after the exit (node-pty may deliver the last output after it)
    await t.waitFor('Session ended');
    expect(await t.exited).toBe(0);
    expect(isGone(appPid)).toBe(true);
    expect(await isPortFree(port)).toBe(true);
    expect(await isPortFree(a.port)).toBe(true);
    expect(hasStackTrace(t.output())).toBe(false);
  });

  it('SIGTERM during the session: the session and the package are stopped (exit 143)', async () => {
    const a = await app();
    const t = onPty(a.dir, ['debug', 'api', '--attach']);
    await t.waitFor('debug>', 0, 60_000);
    const appPid = pidIn(t.output(), /api \(pid (\d+)\) has its inspector/);
    process.kill(t.term.pid, 'SIGTERM');
    expect(await t.exited).toBe(143);
    await waitFor('the package to be stopped', () => isGone(appPid), 20_000);
    expect(await isPortFree(a.port)).toBe(true);
  });

  it('--keep: the package keeps running after the session; Ctrl-C then stops it (exit 130)', async () => {
    const a = await app();
    const t = onPty(a.dir, ['debug', 'api', '--attach', '--keep']);
    await t.waitFor('debug>', 0, 60_000);
    const appPid = pidIn(t.output(), /api \(pid (\d+)\) has its inspector/);
    const port = Number(/on 127\.0\.0\.1:(\d+)/.exec(t.output())![1]);
    expect(await execPid(t)).toBe(appPid);
    const from = t.output().length;
    t.term.write('.exit\r');
    await t.waitFor('keeps running', from);
    expect(isGone(appPid)).toBe(false);
    const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as unknown[];
    expect(list).toHaveLength(1);
    expect(await (await fetch(`http://127.0.0.1:${a.port}/`)).text()).toBe(String(appPid));
    // the terminal is back in its normal mode: Ctrl-C is a signal to opsctl again
    t.term.write('\x03');
    expect(await t.exited).toBe(130);
    await waitFor('the package to be stopped', () => isGone(appPid), 20_000);
    expect(await isPortFree(port)).toBe(true);
  });
  it('node-pty that cannot load: --attach says so, prints how to attach instead, and the package runs until Ctrl-C', async () => {
    const a = await app();
    const t = onPty(
      a.dir,
      ['debug', 'api', '--attach'],
      ['--import', join(import.meta.dirname, 'fixtures', 'no-node-pty.mjs')],
    );
    await t.waitFor('Ctrl-C here stops api', 0, 60_000);
    const appPid = pidIn(t.output(), /api \(pid (\d+)\) has its inspector/);
    const port = Number(/on 127\.0\.0\.1:(\d+)/.exec(t.output())![1]);
    expect(t.output()).toContain(
      'node-pty could not load (Cannot find module pty.node (simulated: node-pty did not build))',
    );
    expect(t.output()).toContain(`Attach from another terminal with \`node inspect 127.0.0.1:${port}\``);
    expect(t.output()).not.toContain('debug>');
    expect(isGone(appPid)).toBe(false);
    t.term.write('\x03');
    expect(await t.exited).toBe(130);
    await waitFor('the package to be stopped', () => isGone(appPid), 20_000);
  });

  it("without node-pty every other command still works, the debug commands' own code included", async () => {
    const a = await app();
    const noPty = ['--import', join(import.meta.dirname, 'fixtures', 'no-node-pty.mjs')];
    const res = await opsctl(['-C', a.dir, 'config', 'show', '--json'], { env: CLEAN_ENV, nodeArgs: noPty });
    expect(res.exitCode).toBe(0);
    expect(JSON.parse(res.stdout).packages[0].name).toBe('api');
    const port = await freePort();
    const attach = await opsctl(['debug', 'attach', '--port', String(port)], { env: CLEAN_ENV, nodeArgs: noPty });
    expect(attach.stderr).toContain(`Nothing on 127.0.0.1:${port} answers as a Node.js inspector`);
    expect(attach.exitCode).toBe(3);
  });
});

describe('choosing the package on a terminal', () => {
  it('asks which one when several have a port, then debugs the one picked', async () => {
    const a = await app({
      config: '  web:\n    path: web\n    port: 1\n',
      files: { 'web/package.json': JSON.stringify({ name: 'web', main: 'server.js' }) },
    });
    const t = onPty(a.dir, ['debug']);
    await t.waitFor('Number (1-2):', 0, 60_000);
    expect(t.output()).toContain('1) api');
    expect(t.output()).toContain('2) web');
    t.term.write('1\r');
    await t.waitFor('has its inspector', 0, 60_000);
    const appPid = pidIn(t.output(), /api \(pid (\d+)\) has its inspector/);
    t.term.write('\x03');
    expect(await t.exited).toBe(130);
    await waitFor('the package to be stopped', () => isGone(appPid), 20_000);
  });
});

describe('opsctl debug attach', () => {
  it('--pid of a Node.js process started without --inspect: turns the inspector on (SIGUSR1), attaches, the process lives on', async () => {
    const { child, inspectPort } = await plainNode();
    const pid = child.pid!;
    const t = onPty(process.cwd(), ['debug', 'attach', '--pid', String(pid)]);
    await t.waitFor('debug>', 0, 60_000);
    expect(t.output()).toContain(`Turned on the inspector of PID ${pid} with SIGUSR1 (127.0.0.1:${inspectPort})`);
    expect(await execPid(t)).toBe(pid);
    t.term.write('.exit\r');
    await t.waitFor('keeps running');
    await t.waitFor('Its inspector stays open');
    expect(await t.exited).toBe(0);
    expect(isGone(pid)).toBe(false);
    expect(child.exitCode).toBeNull();
  });

  it('a PM2 instance of the package: instance 0 by default, the process lives on', async () => {
    const inspectPort = await freePort();
    const a = await app();
    const home = join(a.dir, '.opsctl', 'pm2');
    pm2Homes.push(home);
    const pm2 = (args: string[]) =>
      execFileSync(process.execPath, [pm2Bin(), ...args], {
        cwd: join(a.dir, 'api'),
        env: { ...process.env, PM2_HOME: home, PORT: String(a.port) },
        encoding: 'utf8',
        timeout: 60_000,
      });
    pm2(['start', 'server.js', '--name', 'api', '--node-args', `--inspect-port=127.0.0.1:${inspectPort}`]);
    const jlist = () => JSON.parse(pm2(['jlist']).slice(pm2(['jlist']).indexOf('['))) as Array<{ pid: number }>;
    await waitFor(
      'the PM2 instance to listen',
      async () => (await fetch(`http://127.0.0.1:${a.port}/health`).catch(() => undefined))?.ok === true,
      30_000,
    );
    const pid = jlist()[0]!.pid;

    // no such instance, and no terminal: usage error; the URL printed without a session
    const missing = await opsctl(['-C', a.dir, 'debug', 'attach', 'api', '--instance', '1'], { env: CLEAN_ENV });
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain('api has 1 running instance under PM2; there is no instance 1.');

    // starting a second copy under the inspector: the port is held by the package itself, so the hint says attach
    const second = await opsctl(['-C', a.dir, 'debug', 'api'], { env: CLEAN_ENV });
    expect(second.exitCode).toBe(3);
    expect(second.stderr).toContain(`api's port ${a.port} is in use by PID ${pid}`);
    expect(second.stderr).toContain(
      '→ That is api itself, running under PM2: debug it where it runs with `opsctl debug attach api`',
    );

    const t = onPty(a.dir, ['debug', 'attach', 'api']);
    await t.waitFor('debug>', 0, 60_000);
    expect(t.output()).toContain(`instance 0 of api under PM2`);
    expect(await execPid(t)).toBe(pid);
    t.term.write('.exit\r');
    expect(await t.exited).toBe(0);
    expect(isGone(pid)).toBe(false);
    expect(jlist()[0]).toMatchObject({ pid });
    expect(await (await fetch(`http://127.0.0.1:${a.port}/`)).text()).toBe(String(pid));

    // the inspector is open now: attaching again finds it (no SIGUSR1), here without a terminal, as one JSON document
    const again = await opsctl(['-C', a.dir, 'debug', 'attach', 'api', '--json'], { env: CLEAN_ENV });
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({
      command: 'debug attach',
      ok: true,
      package: 'api',
      pid,
      port: inspectPort,
      openedNow: false,
      session: false,
    });
  });
});

describe('opsctl debug attach: bad input', () => {
  it('a dead pid: exit 2', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    const res = await opsctl(['debug', 'attach', '--pid', String(child.pid)], { env: CLEAN_ENV });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(`✖ No process with PID ${child.pid} is running.`);
  });

  it('a pid that is not Node.js: exit 2, and it is left alone', async () => {
    const child = spawn('sleep', ['60']);
    children.push(child);
    const res = await opsctl(['debug', 'attach', '--pid', String(child.pid), '--json'], { env: CLEAN_ENV });
    expect(res.exitCode).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'debug attach', ok: false, exitCode: 2, error: { code: 'USAGE' } });
    expect(doc.error.message).toContain(`PID ${child.pid} is not a Node.js process`);
    expect(child.exitCode).toBeNull();
  });

  it('--port where no inspector answers: exit 3', async () => {
    const port = await freePort();
    const res = await opsctl(['debug', 'attach', '--port', String(port)], { env: CLEAN_ENV });
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain(`Nothing on 127.0.0.1:${port} answers as a Node.js inspector`);
  });

  it('a package that is not running: exit 3 saying how to start it', async () => {
    const a = await app();
    const res = await opsctl(['-C', a.dir, 'debug', 'attach', 'api'], { env: CLEAN_ENV });
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toContain('✖ api is not running');
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it('no terminal: prints the URL and how to attach instead of a session (exit 0), the inspector turned on', async () => {
    const { child, inspectPort } = await plainNode();
    const res = await opsctl(['debug', 'attach', '--pid', String(child.pid)], { env: CLEAN_ENV });
    expect(res.exitCode).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${inspectPort}/[0-9a-f-]+\\n$`));
    expect(res.stderr).toContain(`node inspect 127.0.0.1:${inspectPort}`);
    expect(child.exitCode).toBeNull();
  });
});
