import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pm2Bin } from '../../src/pm2/cli.js';

/**
 * Stop the PM2 daemon of `home` (a test's own PM2 home), if one was started: `pm2 kill`, and when PM2 cannot stop
 * it in time, SIGKILL (its apps are its children in cluster mode). Tests stop every process they start.
 */
export function killPm2(home: string): void {
  if (!existsSync(join(home, 'pm2.pid'))) return; // no daemon was started
  try {
    execFileSync(process.execPath, [pm2Bin(), 'kill'], {
      env: { ...process.env, PM2_HOME: home },
      stdio: 'ignore',
      timeout: 20_000,
    });
  } catch {
    try {
      process.kill(Number(readFileSync(join(home, 'pm2.pid'), 'utf8')), 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
