import { describeEnv } from '../../src/db/target-label.js';
import { ExitCode } from '../../src/errors.js';
import { startPackages, stopPackages, verifyStartable } from '../../src/pm2/control.js';
import { planStart, type StartPlan } from '../../src/pm2/start-plan.js';
import { holdAppLock } from '../shared/app-lock.js';
import { confirmInProduction } from '../shared/confirm-change.js';
import { type Cli, type Invocation, runCommand } from '../shared/context.js';
import { out, table } from '../shared/output.js';
import { appPm2, namedPackages } from '../shared/pm2-context.js';
import { printEnvChanges, verifyEnvKept } from './env-changes.js';

const HEALTH_TIMEOUT_MS = 30_000;

/** `opsctl start|stop|restart [packages...]`: the packages' PM2 processes (default: all with a start script). */
export function control(verb: 'start' | 'stop' | 'restart') {
  return (cmd: Invocation, names: string[]): Promise<number> =>
    runCommand(cmd, async (cli) => {
      const config = cli.config();
      const named = namedPackages(config, names);
      const packages = verifyStartable(
        named.length ? named : config.packages,
        named.length > 0 || Boolean(cli.opts.package),
      );
      if (verb === 'stop') {
        await confirmInProduction(cli, {
          question: `Stop ${packages.map((p) => p.name).join(', ')} of ${config.root}${describeEnv(config)}`,
          unchanged: 'nothing was stopped',
        });
      }
      const pm2 = appPm2(cli, config);
      const release = holdAppLock(cli, config.root);
      let plans: StartPlan[] | undefined;
      try {
        if (verb === 'stop') return report(cli, await stopPackages(pm2, packages));
        // what differs from each package's last run, said before anything changes (README, "A changed environment")
        plans = await planStart(pm2, config, packages, verb);
        printEnvChanges(cli, config, plans);
        await verifyEnvKept(cli, plans, verb);
        const results = await startPackages(pm2, config, packages, HEALTH_TIMEOUT_MS, verb);
        return report(cli, results, plans);
      } catch (error) {
        if (!plans) throw error;
        return cli.fail(error, { packages: plans.map((p) => ({ name: p.name, envChanges: p.envChanges })) });
      } finally {
        release();
      }
    });
}

function report(cli: Cli, results: { name: string; action: string; instances: number }[], plans?: StartPlan[]): number {
  const envChanges = (name: string) => plans?.find((p) => p.name === name)?.envChanges ?? [];
  if (cli.json)
    return cli.finish(ExitCode.ok, {
      packages: results.map((r) => (plans ? { ...r, envChanges: envChanges(r.name) } : r)),
    });
  out(
    table(
      results.map((r) => [r.name, r.action, String(r.instances)]),
      ['package', 'action', 'instances'],
    ),
  );
  return ExitCode.ok;
}
