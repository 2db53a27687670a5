import { acquireAppLock, describeHolder } from '../../src/app/app-lock.js';
import { redact } from '../../src/output/redact.js';
import { onExitSync } from '../../src/process/exit-cleanup.js';
import type { Cli } from './context.js';
import { err } from './output.js';

/**
 * Hold the app's lock for this command (README, "One at a time"): exit 5 naming the holder when another
 * deploy/start/stop/restart/scale runs; released by the returned call, or when opsctl exits in any other way
 * (SIGINT, SIGTERM, an uncaught error), after the children it started are stopped.
 */
export function holdAppLock(cli: Cli, root: string): () => void {
  const commandLine = redact(['opsctl', ...process.argv.slice(2)].join(' ')).slice(0, 300);
  const lock = acquireAppLock(root, cli.name, commandLine);
  if (lock.takenOver) {
    const { holder, reason } = lock.takenOver;
    err(`⚠ Took over the app's lock ${lock.file} from ${describeHolder(holder)}: ${reason}.`);
  }
  const forget = onExitSync(lock.release);
  return () => {
    forget();
    lock.release();
  };
}
