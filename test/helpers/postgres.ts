import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbedded, stopEmbedded } from '../../src/db/embedded.js';
import { embeddedPaths } from '../../src/db/embedded-state.js';
import { createRunner } from '../../src/process/runner.js';

/** A running, password-protected PostgreSQL for one test file. */
export interface TestPostgres {
  /** postgres://postgres:<password>@127.0.0.1:<port>/app */
  url: string;
  password: string;
  /** Stop the server and delete its folder. */
  stop(): Promise<void>;
}

/**
 * Start a throwaway embedded cluster (our own `opsctl db start` code) in a temp folder on a free port.
 * initdb takes a few seconds: call it once per test file (beforeAll) and `stop()` it in afterAll.
 */
export async function startTestPostgres(): Promise<TestPostgres> {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-pg-'));
  // as root the server runs as the `postgres` user, which must be able to enter the folder
  chmodSync(root, 0o755);
  // any free port: test files run in parallel and must not race for the default one
  const deps = { root, runner: createRunner(), preferredPort: 0 };
  try {
    const started = await startEmbedded(deps);
    const password = decodeURIComponent(new URL(started.url).password);
    return {
      url: started.url,
      password,
      async stop() {
        try {
          await stopEmbedded(deps);
        } catch (err) {
          killPostmaster(root); // pg_ctl did not stop it (a loaded machine): never leave a server behind
          throw err;
        } finally {
          rmSync(root, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    await stopEmbedded(deps).catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}

function killPostmaster(root: string): void {
  const pidFile = join(embeddedPaths(root).dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A PostgreSQL provided by the machine (CI service), when OPSCTL_TEST_PG_URL is set. */
export function machinePostgresUrl(): string | undefined {
  return process.env.OPSCTL_TEST_PG_URL || undefined;
}
