import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createPm2 } from '../../src/pm2/cli.js';
import type { Pm2Instance } from '../../src/pm2/processes.js';
import { createRunner } from '../../src/process/runner.js';
import { type CliResult, opsctl } from './cli.js';
import { killPm2 } from './pm2-kill.js';
import { freePort } from './tcp.js';

/** A one-package app (`api`, no dependencies, `node server.js`) deployed under a PM2 of its own. */
export interface Pm2App {
  dir: string;
  port: number;
  /** opsctl on this app, with PM2_HOME, DATABASE_URL and REDIS_URL of the caller cleared. */
  run(args: string[], env?: Record<string, string>): Promise<CliResult>;
  /** One doctor check's row, through the built CLI. */
  check(
    id: string,
    env?: Record<string, string>,
  ): Promise<{ status: string; message: string; hint?: string; details?: string[] }>;
  instances(): Promise<Pm2Instance[]>;
  /** Kill the app's PM2 daemon and remove the folder. */
  cleanup(): void;
}

export async function createPm2App(
  name: string,
  options: { config?: string; files: Record<string, string> },
): Promise<Pm2App> {
  const dir = mkdtempSync(join(tmpdir(), `opsctl-${name}-`));
  const port = await freePort();
  const files: Record<string, string> = {
    'opsctl.config.yaml': `packages:\n  api:\n    port: ${port}\n    health: /health\n${options.config ?? ''}`,
    'api/package.json': JSON.stringify({
      name: 'api',
      version: '1.0.0',
      private: true,
      scripts: { start: 'node server.js' },
    }),
    ...options.files,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  const home = join(dir, '.opsctl', 'pm2');
  const run = (args: string[], env: Record<string, string> = {}) =>
    opsctl(['-C', dir, ...args], {
      env: { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined, ...env },
      timeoutMs: 90_000,
    });
  return {
    dir,
    port,
    run,
    async check(id, env) {
      const res = await run(['doctor', '--only', id, '--json'], env);
      return JSON.parse(res.stdout).checks[0];
    },
    instances: () => createPm2(createRunner(), home, dir).jlist(),
    cleanup() {
      killPm2(home);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
