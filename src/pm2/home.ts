import { accessSync, constants, existsSync, readFileSync, type Stats, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import { isProcessRunning } from '../process/process-group.js';

/** PM2's home: `$PM2_HOME` (relative to the app root) when set, else `.opsctl/pm2` of the app. */
export function pm2Home(root: string, env: Record<string, string | undefined>): string {
  return env.PM2_HOME ? resolve(root, env.PM2_HOME) : join(root, '.opsctl', 'pm2');
}

/** Is a PM2 daemon running for this home? Read from its pid file, so asking never starts one. */
export function isDaemonRunning(home: string): boolean {
  return daemonPid(home) !== undefined;
}

/** The PID of the PM2 daemon running for this home, from its pid file; undefined when none runs. */
export function daemonPid(home: string): number | undefined {
  const pidFile = join(home, 'pm2.pid');
  if (!existsSync(pidFile)) return undefined;
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined; // removed between the two calls: the daemon just stopped
  }
  return Number.isInteger(pid) && pid > 0 && isProcessRunning(pid) ? pid : undefined;
}

/**
 * What makes the home unusable for PM2, or undefined: the home (or a folder above it) is a file, or the nearest
 * existing folder is not writable. Only looks at the file system, so it is cheap enough to ask after any failure.
 */
export function homeProblem(home: string): string | undefined {
  for (let dir = home; ; dir = dirname(dir)) {
    let stats: Stats;
    try {
      stats = statSync(dir);
    } catch {
      if (dirname(dir) === dir) return undefined;
      continue;
    }
    if (!stats.isDirectory()) return dir === home ? 'is a file, not a folder' : `is inside ${dir}, which is a file`;
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      return dir === home ? 'is not writable' : `cannot be created: ${dir} is not writable`;
    }
    return undefined;
  }
}

/**
 * PM2 keeps its daemon's unix sockets in its home (`rpc.sock`, `pub.sock`; its paths.js has no setting to move
 * them), and a unix socket path is limited to 107 bytes on Linux, 103 on macOS: with a longer one the daemon never
 * answers. Checked before any pm2 command, so no daemon is left behind (README, "Deploy").
 */
export function verifySocketPath(home: string): void {
  const limit = process.platform === 'darwin' ? 103 : 107;
  const socket = join(resolve(home), 'rpc.sock');
  const bytes = Buffer.byteLength(socket);
  if (process.platform === 'win32' || bytes <= limit) return;
  throw new OpsError(
    'PM2_HOME_TOO_LONG',
    `PM2 cannot run with its home at ${home}: its socket ${socket} would be ${bytes} bytes, over the ${limit} a unix socket path may have.`,
    {
      hint: 'Set PM2_HOME to a shorter folder (for example PM2_HOME=~/.pm2-<app>; a relative path is taken from the app root), or move the app to a shorter path.',
      exitCode: ExitCode.usage,
    },
  );
}

/** Throw when PM2 could not start a daemon in this home, saying why and what to do. */
export function verifyHomeUsable(home: string, root: string): void {
  verifySocketPath(home);
  const problem = homeProblem(home);
  if (!problem) return;
  const fallback = join(root, '.opsctl', 'pm2');
  throw new OpsError('PM2_HOME', `PM2 cannot run: its home ${home} ${problem}.`, {
    hint:
      home === fallback
        ? 'Move that file out of the way, or set PM2_HOME to a writable folder.'
        : `Point PM2_HOME at a writable folder, or unset it to use ${fallback}.`,
    exitCode: ExitCode.failed,
  });
}
