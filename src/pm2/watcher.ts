import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pm2 } from './cli.js';
import { isDaemonRunning } from './home.js';
import type { Pm2Instance } from './processes.js';

/** `opsctl watch --daemon` runs under the app's PM2 by this name (README, "`opsctl watch`"). */
export const WATCHER_NAME = 'opsctl-watch';
/** watch ends within a second of SIGTERM; PM2 waits this long before SIGKILL. */
const WATCHER_KILL_TIMEOUT_MS = 3_000;

export interface WatcherLaunch {
  root: string;
  /** `node` and opsctl's bin, then the `watch` arguments. */
  node: string;
  bin: string;
  args: string[];
  /** Where relative paths of the command line (`-C`, `--config`) are taken from. */
  cwd: string;
}

/** The watcher's instance, if it runs under this PM2. */
export function watcherOf(instances: Pm2Instance[]): Pm2Instance | undefined {
  return instances.find((p) => p.name === WATCHER_NAME);
}

/**
 * (Re)start the watcher under the app's PM2: an ecosystem file in `.opsctl/watch/` (no environment in it: PM2 takes
 * the environment of the `pm2` command, as for packages) and `pm2 start`. A watcher already running is replaced,
 * so a second `--daemon` with other flags takes effect.
 */
export async function startWatcher(pm2: Pm2, launch: WatcherLaunch): Promise<Pm2Instance> {
  const dir = join(launch.root, '.opsctl', 'watch');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'ecosystem.json');
  const app = {
    name: WATCHER_NAME,
    script: launch.bin,
    interpreter: launch.node,
    args: launch.args,
    cwd: launch.cwd,
    exec_mode: 'fork',
    instances: 1,
    autorestart: true,
    kill_timeout: WATCHER_KILL_TIMEOUT_MS,
    merge_logs: true,
  };
  writeFileSync(file, `${JSON.stringify({ apps: [app] }, null, 2)}\n`, { mode: 0o600 });
  if (isDaemonRunning(pm2.home) && watcherOf(await pm2.jlist())) await pm2.action('delete', [WATCHER_NAME]);
  await pm2.start(file, {});
  const started = watcherOf(await pm2.jlist());
  if (!started) throw new Error(`PM2 did not list ${WATCHER_NAME} after starting it`);
  return started;
}

/** Stop and delete the watcher; false when none was running. */
export async function stopWatcher(pm2: Pm2): Promise<boolean> {
  if (!isDaemonRunning(pm2.home) || !watcherOf(await pm2.jlist())) return false;
  await pm2.action('delete', [WATCHER_NAME]);
  return true;
}
