import { errorMessage } from '../../errors.js';
import { FLEET_LOCK_HEARTBEAT_MS, lockHost, refreshHostLock, unlockHost } from '../../remote/fleet-lock.js';
import type { FleetRun } from './types.js';

/**
 * Take every host's deploy --target lock, one host after the other in the config's order (two runs over the same
 * hosts meet on the first one: one goes on, the other stops with nothing taken or changed), then keep them fresh.
 * A host held by another run: its preflight fails, exit 5.
 */
export async function lockHosts(run: FleetRun): Promise<void> {
  for (const host of run.hosts) {
    const started = performance.now();
    try {
      await lockHost(host.ssh, run.target.path, run.lock);
      host.locked = true;
    } catch (error) {
      // the host's preflight step fails with it
      const step = host.report.steps.find((s) => s.step === 'preflight');
      const failed = { status: 'failed' as const, reason: errorMessage(error) };
      if (step) Object.assign(step, failed, { durationMs: step.durationMs + Math.round(performance.now() - started) });
      else host.report.steps.push({ step: 'preflight', ...failed, durationMs: 0 });
      host.report.ok = false;
      run.errors.push(error as Error);
      throw error;
    }
  }
  run.heartbeat = setInterval(() => {
    for (const host of run.hosts.filter((h) => h.locked)) void refreshHostLock(host.ssh, run.target.path, run.lock);
  }, FLEET_LOCK_HEARTBEAT_MS);
  run.heartbeat.unref();
}

/** Give back the locks this run holds (in closeFleetRun, whatever happened). */
export async function unlockHosts(run: FleetRun): Promise<void> {
  clearInterval(run.heartbeat);
  await Promise.all(
    run.hosts
      .filter((h) => h.locked)
      .map((h) => unlockHost(h.ssh, run.target.path, run.lock).then(() => (h.locked = false))),
  );
}
