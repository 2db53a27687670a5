import { stopGroupsSync } from './process-group.js';

/** How long children get between SIGTERM and SIGKILL when opsctl exits under them (npm ci cleans up in this). */
const CHILD_GRACE_MS = 3_000;

/** Process groups of children still running (the runner starts each child as the leader of its own group). */
const liveGroups = new Set<number>();
/** Synchronous cleanups (lock files), run after the children are gone, newest first. */
const hooks: Array<() => void> = [];
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runExitCleanupSync);
}

/**
 * What runs when opsctl exits, whichever way (a return, a thrown error, `process.exit` after SIGINT/SIGTERM): first
 * every child process group still running is stopped (SIGTERM, a grace period, SIGKILL), so no `npm ci` or
 * `node build.js` outlives opsctl; then the registered cleanups run (a lock is released only once its work is
 * stopped). Synchronous, as everything in an `exit` handler must be. Safe to call more than once.
 */
function runExitCleanupSync(): void {
  const groups = [...liveGroups];
  liveGroups.clear();
  if (groups.length) stopGroupsSync(groups, CHILD_GRACE_MS);
  for (const hook of hooks.splice(0).reverse()) {
    try {
      hook();
    } catch {
      // one failed cleanup must not keep the others from running
    }
  }
}

/** Stop this child's group if opsctl exits while it runs; returns the call that forgets it once it has exited. */
export function trackChildGroup(pgid: number): () => void {
  install();
  liveGroups.add(pgid);
  return () => liveGroups.delete(pgid);
}

/** Run `cleanup` when opsctl exits (after its children are stopped); returns the call that unregisters it. */
export function onExitSync(cleanup: () => void): () => void {
  install();
  hooks.push(cleanup);
  return () => {
    const i = hooks.indexOf(cleanup);
    if (i >= 0) hooks.splice(i, 1);
  };
}
