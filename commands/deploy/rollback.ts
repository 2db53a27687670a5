import { describeEnv } from '../../src/db/target-label.js';
import { planReleaseRollback, type ReleaseRollback, rollBackRelease } from '../../src/deploy/release-rollback.js';
import { ExitCode, OpsError, usageError } from '../../src/errors.js';
import { verifyStartable } from '../../src/pm2/control.js';
import { holdAppLock } from '../shared/app-lock.js';
import type { Cli, GlobalOptions } from '../shared/context.js';
import { err, out, table } from '../shared/output.js';
import { appPm2, namedPackages } from '../shared/pm2-context.js';

/** The flags of `deploy` that `--rollback` reads. */
interface RollbackFlags extends GlobalOptions {
  foreground?: boolean;
  healthTimeout: number;
}

/**
 * `opsctl deploy --rollback [packages...]`: each package back to the release that went live before the current one
 * (README, "Provenance"), reloaded and health-gated; every package's target is found before anything changes.
 */
export async function rollbackReleases(cli: Cli<RollbackFlags>, names: string[]): Promise<number> {
  const config = cli.config();
  const flags = cli.opts;
  if (flags.foreground) throw usageError('--rollback puts back a release under PM2; it cannot run --foreground.');
  const named = namedPackages(config, names);
  const packages = verifyStartable(named.length ? named : config.packages, named.length > 0);
  const plans = packages.map((pkg) => planReleaseRollback(config.root, pkg));
  const rows = () => plans.map((p) => [p.name, p.from, p.release]);
  if (flags.dryRun) {
    if (!cli.json) out(table(rows(), ['package', 'running', 'would put back']));
    return cli.finish(ExitCode.ok, { dryRun: true, rollback: true, packages: plans });
  }
  if (!cli.json) err(`Putting back earlier releases of ${plans.map((p) => p.name).join(', ')}${describeEnv(config)}`);
  const release = holdAppLock(cli, config.root);
  // an interrupt puts the running release back rather than leaving an unproven one live (README, "Provenance")
  const signal = cli.deferSignals();
  const done: typeof plans = [];
  try {
    for (const [i, pkg] of packages.entries()) {
      if (signal.aborted) throw interrupted(signal, done);
      await rollBackRelease(appPm2(cli, config), config, pkg, plans[i]!, flags.healthTimeout, signal);
      done.push(plans[i]!);
    }
  } catch (error) {
    return cli.fail(error, { rollback: true, packages: done });
  } finally {
    release();
  }
  if (!cli.json) out(table(rows(), ['package', 'was running', 'put back']));
  return cli.finish(ExitCode.ok, { dryRun: false, rollback: true, packages: plans });
}

/** The interrupt, saying which packages were already put back before it came (they stay so). */
function interrupted(signal: AbortSignal, done: ReleaseRollback[]): OpsError {
  const reason = signal.reason as OpsError;
  const kept = done.length
    ? `${done.map((p) => `${p.name} (release ${p.release})`).join(', ')} stay put back; the others were not changed.`
    : 'Nothing was changed.';
  return new OpsError(reason.code, reason.message, { hint: kept, exitCode: reason.exitCode });
}
