import { ExitCode } from '../../src/errors.js';
import { startPackages, stopPackages, verifyStartable } from '../../src/pm2/control.js';
import { holdAppLock } from '../shared/app-lock.js';
import { type Invocation, runCommand } from '../shared/context.js';
import { out, table } from '../shared/output.js';
import { appPm2, namedPackages } from '../shared/pm2-context.js';

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
      const pm2 = appPm2(cli, config);
      const release = holdAppLock(cli, config.root);
      const results = await (verb === 'stop'
        ? stopPackages(pm2, packages)
        : startPackages(pm2, config, packages, HEALTH_TIMEOUT_MS, verb)
      ).finally(release);
      if (cli.json) return cli.finish(ExitCode.ok, { packages: results });
      out(
        table(
          results.map((r) => [r.name, r.action, String(r.instances)]),
          ['package', 'action', 'instances'],
        ),
      );
      return ExitCode.ok;
    });
}
