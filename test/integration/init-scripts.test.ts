import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, opsctl } from '../helpers/cli.js';
import { makeInitApp } from '../helpers/init-app.js';
import { machinePostgresUrl, startTestPostgres } from '../helpers/postgres.js';
import { createDatabase, type TestDatabase } from './migrate-setup.js';

const NPM_TIMEOUT_MS = 120_000;

/** `npm run <script>` in `dir`, with `opsctl` on PATH as an app that has it installed would. */
function npmRun(dir: string, args: string[], env: Record<string, string>) {
  return new Promise<{ exitCode: number; output: string }>((done) => {
    execFile(
      'npm',
      ['run', ...args],
      { cwd: dir, env: { ...process.env, ...env }, timeout: NPM_TIMEOUT_MS },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        done({ exitCode: typeof code === 'number' ? code : error ? 1 : 0, output: `${stdout}${stderr}` });
      },
    );
  });
}

let server: { url: string; stop(): Promise<void> };
let db: TestDatabase;
let bin: string;
const app = makeInitApp();

beforeAll(async () => {
  const machine = machinePostgresUrl();
  server = machine ? { url: machine, stop: async () => {} } : await startTestPostgres();
  db = await createDatabase(server.url);
  bin = mkdtempSync(join(tmpdir(), 'opsctl-bin-'));
  writeFileSync(join(bin, 'opsctl'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, 'opsctl'), 0o755);
}, 120_000);

afterAll(async () => {
  await db?.drop();
  await server?.stop();
  rmSync(bin, { recursive: true, force: true });
  app.remove();
});

describe('the npm scripts of `opsctl init --scripts`', () => {
  it('migrate and rollback run opsctl on the app, with the database the written config names', async () => {
    const init = await opsctl(['init', '--yes', '--scripts'], { cwd: app.root, env: { CI: undefined } });
    expect(init.exitCode, init.stderr).toBe(0);
    // the config says database.url: ${PG_URL}, the variable the app itself reads
    const env = { PATH: `${bin}:${process.env.PATH}`, PG_URL: db.url, CI: '1', OPSCTL_ENV: '' };
    const api = join(app.root, 'api');

    const up = await npmRun(api, ['migrate'], env);
    expect(up.exitCode, up.output).toBe(0);
    expect(await db.applied()).toEqual(['0001_create_items']);
    expect(await db.hasTable('items')).toBe(true);

    const down = await npmRun(api, ['rollback', '--', '--yes'], env);
    expect(down.exitCode, down.output).toBe(0);
    expect(await db.applied()).toEqual([]);
    expect(await db.hasTable('items')).toBe(false);
  }, 180_000);
});
