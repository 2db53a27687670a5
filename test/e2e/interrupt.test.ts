import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

let server: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // accepts connections and never answers: the doctor run below waits on it until interrupted
  server = createServer((s) => sockets.add(s));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((done) => server.close(done));
});

it('exits 130 on Ctrl-C (SIGINT) with a message, no stack trace', async () => {
  const port = (server.address() as { port: number }).port;
  const child = spawn(process.execPath, [BIN, 'doctor', '--only', 'postgres', '--timeout', '20000'], {
    env: { ...process.env, DATABASE_URL: `postgres://app:sigintpass@127.0.0.1:${port}/app`, NO_COLOR: '1' },
    cwd: import.meta.dirname,
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const started = Date.now();
  while (sockets.size === 0 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
  expect(sockets.size).toBeGreaterThan(0);
  child.kill('SIGINT');
  const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  expect(code).toBe(130);
  expect(stderr).toContain('✖ Interrupted.');
  expect(stderr).not.toContain('sigintpass');
  expect(Date.now() - started).toBeLessThan(15_000);
});

it.each([
  ['SIGINT', 130, 'INTERRUPTED'],
  ['SIGTERM', 143, 'TERMINATED'],
] as const)('--json: %s still prints exactly one JSON document (exit %i)', async (signal, exitCode, errorCode) => {
  const port = (server.address() as { port: number }).port;
  const before = sockets.size;
  const child = spawn(process.execPath, [BIN, 'doctor', '--only', 'postgres', '--timeout', '20000', '--json'], {
    env: { ...process.env, DATABASE_URL: `postgres://app:sigintpass@127.0.0.1:${port}/app`, NO_COLOR: '1' },
    cwd: import.meta.dirname,
  });
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
  try {
    const started = Date.now();
    while (sockets.size === before && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect(sockets.size).toBeGreaterThan(before);
    child.kill(signal);
    expect(await exited).toBe(exitCode);
    const doc = JSON.parse(stdout);
    expect(doc).toMatchObject({ command: 'doctor', ok: false, exitCode, error: { code: errorCode } });
    expect(stdout).not.toContain('sigintpass');
  } finally {
    child.kill('SIGKILL');
  }
});
