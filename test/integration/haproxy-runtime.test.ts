import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { drainServer, findServersByAddress, readServers, readyServer } from '../../src/lb/haproxy-runtime.js';
import { sendHaproxyCommand, verifyHaproxyAdmin } from '../../src/lb/haproxy-socket.js';
import { freePort } from '../../src/net/free-port.js';
import {
  type AppServer,
  hasHaproxy,
  NO_HAPROXY_REASON,
  startAppServer,
  startHaproxy,
  type TestHaproxy,
} from '../helpers/haproxy.js';
import { waitFor } from '../helpers/wait.js';

const BACKEND = 'shop_api';
const SLOW_MS = 3_000;

describe.skipIf(!hasHaproxy())('HAProxy runtime API client against a real haproxy', () => {
  if (!hasHaproxy()) it.skip(NO_HAPROXY_REASON, () => undefined);
  let haproxy: TestHaproxy;
  let app1: AppServer;
  let app2: AppServer;
  let tcpPort: number;

  beforeAll(async () => {
    app1 = await startAppServer({ address: '127.0.0.1', slowMs: SLOW_MS, name: 'app1' });
    app2 = await startAppServer({ address: '127.0.0.2', slowMs: SLOW_MS, name: 'app2' });
    tcpPort = await freePort();
    haproxy = await startHaproxy({
      backends: {
        [BACKEND]: [
          { name: 'app1', address: '127.0.0.1', port: app1.port },
          { name: 'app2', address: '127.0.0.2', port: app2.port },
        ],
      },
      globalLines: (dir) => [
        `  stats socket ${join(dir, 'user.sock')} mode 600 level user`,
        `  stats socket ipv4@127.0.0.1:${tcpPort} level admin`,
      ],
    });
    await waitFor('both servers UP', async () =>
      (await readServers(haproxy.socket, BACKEND)).every((s) => s.status === 'UP'),
    );
  });

  // a test that fails half-way leaves no server drained for the next one
  afterEach(async () => {
    if (!haproxy) return;
    for (const server of await readServers(haproxy.socket, BACKEND)) {
      if (server.admin !== 'ready') await readyServer(haproxy.socket, BACKEND, server.name, { timeoutMs: 10_000 });
    }
  });

  afterAll(async () => {
    await haproxy?.stop();
    await app1?.close();
    await app2?.close();
  });

  /** The server the slow request in flight went to (HAProxy's round robin picks it). */
  async function busyServer(): Promise<string> {
    let busy = '';
    await waitFor(
      'the slow request to reach a server',
      async () => {
        busy = (await readServers(haproxy.socket, BACKEND)).find((s) => s.sessions > 0)?.name ?? '';
        return busy !== '';
      },
      20_000,
      20,
    );
    return busy;
  }

  it('reads the servers of a backend: name, address, port, states, sessions', async () => {
    const servers = await readServers(haproxy.socket, BACKEND);
    expect(servers).toEqual([
      expect.objectContaining({
        backend: BACKEND,
        name: 'app1',
        address: '127.0.0.1',
        port: app1.port,
        operational: 'running',
        admin: 'ready',
        status: 'UP',
        sessions: 0,
      }),
      expect.objectContaining({
        backend: BACKEND,
        name: 'app2',
        address: '127.0.0.2',
        port: app2.port,
        operational: 'running',
        admin: 'ready',
        status: 'UP',
        sessions: 0,
      }),
    ]);
  });

  it('reads the same over a TCP stats socket (ipv4@host:port)', async () => {
    const servers = await readServers(`ipv4@127.0.0.1:${tcpPort}`, BACKEND);
    expect(servers.map((s) => s.name)).toEqual(['app1', 'app2']);
  });

  it('finds the servers of a host by its address (an IP, or a name that resolves to it)', async () => {
    const servers = await readServers(haproxy.socket, BACKEND);
    expect((await findServersByAddress(servers, '127.0.0.2')).map((s) => s.name)).toEqual(['app2']);
    expect((await findServersByAddress(servers, 'localhost')).map((s) => s.name)).toEqual(['app1']);
    expect(await findServersByAddress(servers, '127.0.0.9')).toEqual([]);
  });

  it('an unknown backend is a config error (exit 2) naming the backends HAProxy has', async () => {
    await expect(readServers(haproxy.socket, 'nope')).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(/no backend "nope" \(it has: shop_api\)/),
    });
  });

  it('drain waits for the in-flight request to end, sends it nothing new, then puts it in maintenance', async () => {
    const slow = fetch(`http://127.0.0.1:${haproxy.port}/slow`).then(async (res) => ({
      status: res.status,
      body: await res.text(),
    }));
    const busy = await busyServer();
    const busyApp = busy === 'app1' ? app1 : app2;
    // HAProxy counts the session as soon as it connects; the app may see the request a little later
    await waitFor('the slow request to reach the app', () => busyApp.inFlight() === 1, 20_000, 20);
    const before = busyApp.requests();
    const draining = drainServer(haproxy.socket, BACKEND, busy, { timeoutMs: 10_000 });
    await waitFor(
      'drain state',
      async () => (await readServers(haproxy.socket, BACKEND)).find((s) => s.name === busy)?.admin === 'drain',
      20_000,
      20,
    );
    for (let i = 0; i < 6; i++) expect((await fetch(`http://127.0.0.1:${haproxy.port}/fast`)).status).toBe(200);
    expect(busyApp.requests()).toBe(before);
    expect(busyApp.inFlight()).toBe(1);
    const result = await draining;
    expect(busyApp.inFlight()).toBe(0);
    expect(await slow).toEqual({ status: 200, body: busy });
    expect(result).toEqual({ backend: BACKEND, server: busy, drained: true, sessions: 0 });
    const after = (await readServers(haproxy.socket, BACKEND)).find((s) => s.name === busy);
    expect(after).toMatchObject({ admin: 'maint', status: 'MAINT' });

    await readyServer(haproxy.socket, BACKEND, busy, { timeoutMs: 10_000 });
    expect((await readServers(haproxy.socket, BACKEND)).find((s) => s.name === busy)).toMatchObject({
      admin: 'ready',
      status: 'UP',
    });
  });

  it('drain that times out still goes to maintenance and says how many sessions were left', async () => {
    // a request far longer than the drain's limit, abandoned once the test has seen what it needs
    const abort = new AbortController();
    const slow = fetch(`http://127.0.0.1:${haproxy.port}/slow?ms=30000`, { signal: abort.signal }).catch(
      () => undefined,
    );
    let busy = '';
    try {
      busy = await busyServer();
      const result = await drainServer(haproxy.socket, BACKEND, busy, { timeoutMs: 200 });
      expect(result).toEqual({ backend: BACKEND, server: busy, drained: false, sessions: 1 });
      expect((await readServers(haproxy.socket, BACKEND)).find((s) => s.name === busy)?.admin).toBe('maint');
    } finally {
      abort.abort();
      await slow;
    }
    await readyServer(haproxy.socket, BACKEND, busy, { timeoutMs: 10_000 });
  });

  it('a server whose app is down fails readyServer with exit 3, naming it and its state, in bounded time', async () => {
    await drainServer(haproxy.socket, BACKEND, 'app2', { timeoutMs: 5_000 });
    app2.setUnhealthy(true);
    try {
      const started = Date.now();
      const error = await readyServer(haproxy.socket, BACKEND, 'app2', { timeoutMs: 1_500 }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        exitCode: 3,
        code: 'HAPROXY_NOT_UP',
        message: expect.stringMatching(/shop_api\/app2 is not UP after 1500 ms: DOWN.*Layer7 wrong status/),
      });
      expect(Date.now() - started).toBeLessThan(6_000);
    } finally {
      app2.setUnhealthy(false);
    }
    await readyServer(haproxy.socket, BACKEND, 'app2', { timeoutMs: 10_000 });
  });

  it('a socket below level admin: a clear exit-4 error saying `level admin`', async () => {
    const userSocket = join(haproxy.dir, 'user.sock');
    await expect(verifyHaproxyAdmin({ kind: 'unix', path: userSocket, text: userSocket })).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringContaining('is at level user, not admin'),
      hint: expect.stringContaining(`stats socket ${userSocket} mode 600 level admin`),
    });
    await expect(drainServer(userSocket, BACKEND, 'app1')).rejects.toMatchObject({
      exitCode: 4,
      code: 'HAPROXY_NOT_ADMIN',
    });
    expect((await readServers(haproxy.socket, BACKEND)).find((s) => s.name === 'app1')?.admin).toBe('ready');
  });
});

describe('HAProxy admin socket failures', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-haproxy-sock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('no socket at the path: exit 4 naming it and the `stats socket` line to add', async () => {
    const missing = join(dir, 'missing.sock');
    await expect(readServers(missing, BACKEND)).rejects.toMatchObject({
      exitCode: 4,
      code: 'HAPROXY_NO_SOCKET',
      message: `No HAProxy admin socket at ${missing}.`,
      hint: expect.stringContaining(`stats socket ${missing} mode 600 level admin`),
    });
  });

  it('a backend or server name that could smuggle a second command is refused before anything is sent (exit 2)', async () => {
    const missing = join(dir, 'never-opened.sock');
    await expect(readServers(missing, 'shop_api; shutdown sessions server shop_api/app1')).rejects.toMatchObject({
      exitCode: 2,
      code: 'CONFIG',
    });
    await expect(drainServer(missing, 'shop_api', 'app1;disable frontend web')).rejects.toMatchObject({
      exitCode: 2,
      code: 'CONFIG',
    });
  });

  it('nothing listening on a TCP stats socket: exit 4, refused', async () => {
    const port = await freePort();
    await expect(readServers(`tcp://127.0.0.1:${port}`, BACKEND)).rejects.toMatchObject({
      exitCode: 4,
      code: 'HAPROXY_REFUSED',
    });
  });

  it('a socket that accepts and never answers times out (exit 4) and leaves no connection open', async () => {
    const path = join(dir, 'hung.sock');
    const sockets = new Set<Socket>();
    let received = '';
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk) => (received += chunk.toString()));
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const started = Date.now();
      const error = await sendHaproxyCommand({ kind: 'unix', path, text: path }, 'show servers state x', 300).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({
        exitCode: 4,
        code: 'HAPROXY_TIMEOUT',
        message: expect.stringContaining(`${path} did not answer`),
      });
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(received).toBe('show servers state x\n');
      await waitFor('the client to close its connection', () => sockets.size === 0, 2_000, 20);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
