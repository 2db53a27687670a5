import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sendHaproxyCommand } from '../../src/lb/haproxy-socket.js';
import { freePort } from '../../src/net/free-port.js';

/** A real haproxy running in the foreground (`-db`) as a child of the test, with its admin socket in a temp dir. */
export interface TestHaproxy {
  /** The frontend's port on 127.0.0.1 (0 when started from a given config). */
  port: number;
  /** Path of its admin socket (`level admin`). */
  socket: string;
  dir: string;
  /** Kill haproxy (SIGKILL when it does not go on SIGTERM) and remove its folder. */
  stop(): Promise<void>;
}

export const HAPROXY = '/usr/sbin/haproxy';
const READY_TIMEOUT_MS = 10_000;

/** Is haproxy installed? (`.ci/run` installs it.) Tests that need it are skipped with NO_HAPROXY_REASON otherwise. */
export function hasHaproxy(): boolean {
  return spawnSync(HAPROXY, ['-v'], { stdio: 'ignore' }).status === 0;
}

export const NO_HAPROXY_REASON = `${HAPROXY} is not installed (.ci/run installs it): the HAProxy tests are skipped`;

export interface BackendServer {
  name: string;
  port: number;
  /** Loopback address of the server line (default 127.0.0.1; 127.0.0.2... stand for other hosts). */
  address?: string;
}

/**
 * haproxy with an admin socket, a frontend on a free loopback port (to the first backend) and each backend of
 * `backends` (`option httpchk GET /health`, servers checked every 100 ms, `fall 2 rise 1`). `globalLines` adds lines
 * to the global section (e.g. a second, non-admin socket).
 */
export async function startHaproxy(options: {
  backends: Record<string, BackendServer[]>;
  globalLines?: (dir: string) => string[];
}): Promise<TestHaproxy> {
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-haproxy-'));
  const port = await freePort();
  const socket = join(dir, 'admin.sock');
  const backends = Object.entries(options.backends).flatMap(([name, servers]) => [
    `backend ${name}`,
    '  option httpchk GET /health',
    '  http-check expect status 200',
    ...servers.map((s) => `  server ${s.name} ${s.address ?? '127.0.0.1'}:${s.port} check inter 100 fall 2 rise 1`),
  ]);
  const config = [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    ...(options.globalLines?.(dir) ?? []),
    'defaults',
    '  mode http',
    '  timeout connect 1s',
    '  timeout client 10s',
    '  timeout server 10s',
    // named like its backend, as many configs are (the runtime client must tell them apart)
    `frontend ${Object.keys(options.backends)[0]}`,
    `  bind 127.0.0.1:${port}`,
    `  default_backend ${Object.keys(options.backends)[0]}`,
    ...backends,
    '',
  ].join('\n');
  return startHaproxyWithConfig(config, { dir, port, socket });
}

/** haproxy on a config the test wrote (`lb haproxy`'s output); `socket` is where that config puts its admin socket. */
export async function startHaproxyWithConfig(
  config: string,
  where: { dir?: string; port?: number; socket: string },
): Promise<TestHaproxy> {
  const dir = where.dir ?? mkdtempSync(join(tmpdir(), 'opsctl-haproxy-'));
  const file = join(dir, 'haproxy.cfg');
  writeFileSync(file, config);
  const child = spawn(HAPROXY, ['-db', '-f', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForSocket(where.socket, child);
  } catch (err) {
    await stop();
    throw new Error(`haproxy did not start: ${(err as Error).message}\n${output}`);
  }
  return { port: where.port ?? 0, socket: where.socket, dir, stop };
}

async function waitForSocket(socket: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    const level = await sendHaproxyCommand({ kind: 'unix', path: socket, text: socket }, 'show cli level', 1_000).catch(
      () => '',
    );
    if (level.trim() === 'admin') return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting for its admin socket');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(kill);
}

/** A node http server on loopback standing for one app instance: `/health` answers 200, `/slow` late, the rest at once. */
export interface AppServer {
  port: number;
  address: string;
  /** Requests other than health checks it received. */
  requests(): number;
  /** Requests in progress now. */
  inFlight(): number;
  /** Make `/health` answer 503 (true) or 200 again (false). */
  setUnhealthy(unhealthy: boolean): void;
  close(): Promise<void>;
}

/** `port`: a given one (the same port on every loopback "host"), else a free one. */
export async function startAppServer(
  options: { address?: string; port?: number; slowMs?: number; name?: string } = {},
): Promise<AppServer> {
  const address = options.address ?? '127.0.0.1';
  let requests = 0;
  let inFlight = 0;
  let unhealthy = false;
  const server: Server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(unhealthy ? 503 : 200).end('ok');
      return;
    }
    requests++;
    inFlight++;
    // `/slow` answers after `slowMs`, `/slow?ms=N` after N ms
    const url = new URL(req.url ?? '/', 'http://app');
    const delay = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? options.slowMs ?? 1_000) : 0;
    const timer = setTimeout(() => res.writeHead(200).end(options.name ?? 'app'), delay);
    res.on('close', () => {
      inFlight--;
      clearTimeout(timer);
    });
  });
  server.listen({ port: options.port ?? 0, host: address });
  await once(server, 'listening');
  const bound = server.address();
  const port = typeof bound === 'object' && bound ? bound.port : 0;
  return {
    port,
    address,
    requests: () => requests,
    inFlight: () => inFlight,
    setUnhealthy: (value) => (unhealthy = value),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
