import { ExitCode } from '../../src/errors.js';
import { scalePackage } from '../../src/pm2/control.js';
import { holdAppLock } from '../shared/app-lock.js';
import { type Invocation, runCommand } from '../shared/context.js';
import { err } from '../shared/output.js';
import { appPm2, namedPackages } from '../shared/pm2-context.js';

/** `opsctl scale <package> <n|+n|-n>` */
export function scale(cmd: Invocation, name: string, count: string): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const [pkg] = namedPackages(config, [name]);
    const pm2 = appPm2(cli, config);
    const release = holdAppLock(cli, config.root);
    const result = await scalePackage(pm2, config.root, pkg!, count).finally(release);
    if (!cli.json) {
      err(
        result.changed
          ? `✔ ${pkg!.name}: ${result.from} → ${result.to} instances`
          : `✔ ${pkg!.name} already runs ${result.to} instance(s); nothing to do.`,
      );
    }
    return cli.finish(ExitCode.ok, { package: pkg!.name, ...result });
  });
}
