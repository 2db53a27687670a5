import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { freePort } from '../../src/net/free-port.js';

/** A throwaway redis-server on 127.0.0.1. */
export interface TestRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/** Is `redis-server` on PATH? Tests that need it are skipped (with this reason) when it is not. */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export const NO_REDIS_REASON = 'redis-server is not on PATH: the Redis integration tests are skipped';

/**
 * Start `redis-server` on a free port (or `port`: a server stopped earlier started again) without persistence;
 * `password` turns on requirepass; `cache` replaces the maxmemory settings (`[]`: Redis' defaults).
 */
export async function startRedis(
  options: { password?: string; port?: number; cache?: string[] } = {},
): Promise<TestRedis> {
  const port = options.port ?? (await freePort());
  // a well-set cache unless the test says otherwise: the redis check reviews maxmemory and its policy
  const cache = options.cache ?? ['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru'];
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...cache];
  if (options.password) args.push('--requirepass', options.password);
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`redis-server did not start on ${port}: ${(err as Error).message}\n${output}`);
  }
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return { url: `redis://${auth}127.0.0.1:${port}`, port, stop: () => stopChild(child) };
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out');
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
