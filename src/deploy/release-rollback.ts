import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { identityEnv } from '../app/env.js';
import { markRolledBack, readLive } from '../app/live.js';
import { deployPaths } from '../app/paths.js';
import { activateRelease, currentRelease } from '../app/releases.js';
import type { ResolvedConfig } from '../config/types.js';
import { ExitCode, OpsError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from '../pm2/cli.js';
import { launchLogTail, launchRelease, waitLaunched } from '../pm2/launch.js';

/** `deploy --rollback` for one package: which release it goes back to, and from which. */
export interface ReleaseRollback {
  name: string;
  from: string;
  release: string;
}

/**
 * The release a package would go back to: the newest one that went live before the current one and is still kept
 * (README, "Provenance": `deploy --rollback`); a usage-free failure (exit 3) when there is none.
 */
export function planReleaseRollback(root: string, pkg: AppPackage): ReleaseRollback {
  const from = currentRelease(root, pkg.name);
  if (!from) {
    throw new OpsError('NOT_DEPLOYED', `${pkg.name} has not been deployed, so there is no release to go back from.`, {
      hint: `Run \`opsctl deploy ${pkg.name}\` first.`,
      exitCode: ExitCode.failed,
    });
  }
  const dir = deployPaths(root).releases(pkg.name);
  // older than the running one in the history (newest first), so a second --rollback goes further back
  const history = readLive(root, pkg.name)?.history ?? [];
  const older = history.slice(history.indexOf(from) + 1);
  const release = older.find((id) => id !== from && existsSync(join(dir, id)));
  if (!release) {
    throw new OpsError(
      'NO_EARLIER_RELEASE',
      `${pkg.name} has no earlier release kept to go back to (running ${from}).`,
      {
        hint: 'Only releases that went live are kept (the three newest); deploy the version you want instead.',
        exitCode: ExitCode.failed,
      },
    );
  }
  return { name: pkg.name, from, release };
}

/**
 * Put the earlier release back and reload it (zero downtime in cluster mode), health-gated; when it is not
 * healthy, the release it replaced is put back and the error (exit 3) carries the log lines; so it is when `signal`
 * aborts (an interrupt) before it proved itself, and the error is the interrupt's. Marked as a rollback for `status`.
 */
export async function rollBackRelease(
  pm2: Pm2,
  config: ResolvedConfig,
  pkg: AppPackage,
  plan: ReleaseRollback,
  healthTimeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  activateRelease(config.root, pkg.name, plan.release);
  const launch = await launchRelease(pm2, config, pkg, plan.release, { scale: true });
  const problem = signal?.aborted ? 'interrupted' : await waitLaunched(pm2, launch, healthTimeoutMs, signal);
  if (problem) {
    const tail = launchLogTail(launch, config);
    activateRelease(config.root, pkg.name, plan.from);
    await launchRelease(pm2, config, pkg, plan.from, { scale: true });
    if (signal?.aborted) {
      // interrupted before the earlier release proved itself: the running one is back, nothing is marked
      const reason = signal.reason as OpsError;
      throw new OpsError(reason.code, reason.message, {
        hint: `${pkg.name}: release ${plan.from} was put back (release ${plan.release} had not proved itself).`,
        exitCode: reason.exitCode,
      });
    }
    const lines = tail.length ? `\nIts last log lines:\n${tail.map((l) => `    ${l}`).join('\n')}` : '';
    throw new OpsError('HEALTH', `${pkg.name}: release ${plan.release} is not healthy: ${problem}.${lines}`, {
      hint: `Release ${plan.from} was put back. Look at \`opsctl logs ${pkg.name}\`.`,
      exitCode: ExitCode.failed,
    });
  }
  markRolledBack(config.root, pkg.name, plan.release, { from: plan.from, why: 'requested' }, identityEnv(config, pkg));
}
