import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';

/** Two `opsctl db start` at once on a fresh app (README, "`opsctl db start|stop|status|url`"). */
let app: string;
const NO_DB_ENV = { DATABASE_URL: undefined, OPSCTL_ENV: undefined, REDIS_URL: undefined };
const db = (...args: string[]) => opsctl(['-C', app, ...args], { env: NO_DB_ENV, timeoutMs: 150_000 });

beforeEach(() => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-db2-'));
  chmodSync(app, 0o755); // as root the server runs as `postgres`, which must be able to enter the app folder
});
afterEach(async () => {
  if (existsSync(join(app, '.opsctl', 'pg', 'data'))) await db('db', 'stop');
  rmSync(app, { recursive: true, force: true });
});

describe('opsctl db start, twice at once', () => {
  it('the second waits for the first, then reports it already running; the database works', async () => {
    const [a, b] = await Promise.all([db('db', 'start', '--json'), db('db', 'start', '--json')]);
    for (const res of [a, b]) {
      expect({ exitCode: res.exitCode, stderr: res.stderr }).toEqual({ exitCode: 0, stderr: '' });
      expect(hasStackTrace(res.stderr)).toBe(false);
    }
    const docs = [JSON.parse(a.stdout), JSON.parse(b.stdout)] as Array<{ alreadyRunning: boolean; port: number }>;
    expect(docs.map((d) => d.alreadyRunning).sort()).toEqual([false, true]);
    expect(docs[0]!.port).toBe(docs[1]!.port);

    const status = JSON.parse((await db('db', 'status', '--json')).stdout);
    expect(status).toMatchObject({ running: true, initialised: true });
    const doctor = await db('doctor', '--only', 'postgres', '--json');
    expect(JSON.parse(doctor.stdout).checks[0]).toMatchObject({ id: 'postgres', status: 'pass' });
    expect(existsSync(join(app, '.opsctl', 'pg', 'start.lock'))).toBe(false);
  });

  it('one start alone takes and leaves no lock behind (no false alarm), and stop works as before', async () => {
    const res = await db('db', 'start');
    expect(res.exitCode).toBe(0);
    expect(existsSync(join(app, '.opsctl', 'pg', 'start.lock'))).toBe(false);
    expect((await db('db', 'start')).stderr).toContain('already running');
  });
});
