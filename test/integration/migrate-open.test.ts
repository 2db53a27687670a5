import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { type HungServer, startHungServer } from '../helpers/tcp.js';

// `migrate` starts connecting before it reads the migrations folder (the server sets up the session meanwhile);
// a folder that fails to read must still be reported at once, its connection abandoned, not waited for.
describe('migrate: opening the run', () => {
  let server: HungServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = undefined;
    dir = undefined;
  });

  it('a bad migrations folder is a usage error at once, even while the database does not answer', async () => {
    server = await startHungServer();
    dir = mkdtempSync(join(tmpdir(), 'opsctl-migrate-open-'));
    mkdirSync(join(dir, 'migrations'));
    writeFileSync(join(dir, 'migrations', 'create_orders.sql'), 'create table orders (id int);\n');
    const started = Date.now();
    const res = await opsctl(['-C', dir, 'migrate'], {
      env: { DATABASE_URL: `postgres://app@127.0.0.1:${server.port}/app` },
      timeoutMs: 30_000,
    });
    const elapsed = Date.now() - started;
    expect(res.stderr).toContain('create_orders.sql does not start with a version');
    expect(res.exitCode).toBe(2);
    expect(hasStackTrace(res.stderr)).toBe(false);
    // the connect timeout is 10 s: the process did not wait for it
    expect(elapsed).toBeLessThan(6_000);
  });
});
