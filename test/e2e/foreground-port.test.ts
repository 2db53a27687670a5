import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';

/** `deploy --foreground` runs the port preflight before any child starts (README, "Deploy"). */
let dir: string | undefined;
let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = server = undefined;
});

describe('deploy --foreground with a port taken', () => {
  it('exits 3 with the preflight message naming the holder; the app never starts', async () => {
    server = createServer();
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    dir = mkdtempSync(join(tmpdir(), 'opsctl-fg-port-'));
    const files: Record<string, string> = {
      'opsctl.config.yaml': `packages:\n  api:\n    port: ${port}\n    health: /health\n`,
      'api/package.json': JSON.stringify({ name: 'api', scripts: { start: 'node server.js' } }),
      'api/server.js': "console.log('STARTED'); require('node:http').createServer().listen(process.env.PORT);\n",
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const res = await opsctl(['-C', dir, 'deploy', '--foreground'], {
      env: { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined },
      timeoutMs: 30_000,
    });
    expect(res.exitCode).toBe(3);
    expect(res.stderr).toMatch(new RegExp(`api: port ${port} is in use by PID ${process.pid}.*; nothing was started`));
    expect(res.stderr).toContain('Stop that process, or change packages.api.port');
    expect(res.stderr).not.toContain('STARTED');
    expect(res.stderr).not.toContain('EADDRINUSE');
    expect(hasStackTrace(res.stderr)).toBe(false);
    const json = await opsctl(['-C', dir, 'deploy', '--foreground', '--json'], {
      env: { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined },
      timeoutMs: 30_000,
    });
    expect(json.exitCode).toBe(3);
    expect(JSON.parse(json.stdout).error.message).toContain(`port ${port} is in use`);
  }, 60_000);
});
