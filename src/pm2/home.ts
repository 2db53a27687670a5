import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** PM2's home: `$PM2_HOME` (relative to the app root) when set, else `.opsctl/pm2` of the app. */
export function pm2Home(root: string, env: Record<string, string | undefined>): string {
  return env.PM2_HOME ? resolve(root, env.PM2_HOME) : join(root, '.opsctl', 'pm2');
}

/** Is a PM2 daemon running for this home? Read from its pid file, so asking never starts one. */
export function isDaemonRunning(home: string): boolean {
  const pidFile = join(home, 'pm2.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
