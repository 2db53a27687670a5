import { ExitCode } from '../../src/errors.js';
import { stopOrphans } from '../../src/pm2/orphans.js';
import { stopWatcher, WATCHER_NAME } from '../../src/pm2/watcher.js';
import { holdAppLock } from '../shared/app-lock.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out, table } from '../shared/output.js';
import { appPm2 } from '../shared/pm2-context.js';
import { control } from './control.js';

export interface StopFlags extends GlobalOptions {
  orphans?: boolean;
}

/** `opsctl stop [packages...]`, or `opsctl stop --orphans`: processes of packages that left the config. */
export function stop(cmd: Invocation<StopFlags>, names: string[]): Promise<number> {
  if (names.length === 1 && names[0] === WATCHER_NAME) return stopWatch(cmd);
  if (!cmd.opts.orphans) return control('stop')(cmd, names);
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const pm2 = appPm2(cli, config);
    const release = holdAppLock(cli, config.root);
    const results = await stopOrphans(pm2, config).finally(release);
    if (cli.json) return cli.finish(ExitCode.ok, { packages: results });
    if (!results.length) err("No process of a package outside the config runs under the app's PM2; nothing to stop.");
    else
      out(
        table(
          results.map((r) => [r.name, r.action, String(r.instances)]),
          ['package', 'action', 'instances'],
        ),
      );
    return ExitCode.ok;
  });
}

/** `opsctl stop opsctl-watch`: stop and delete the watcher `watch --daemon` started (README, "`opsctl watch`"). */
function stopWatch(cmd: Invocation<StopFlags>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const stopped = await stopWatcher(appPm2(cli, cli.config()));
    const results = stopped ? [{ name: WATCHER_NAME, action: 'stopped', instances: 1 }] : [];
    if (cli.json) return cli.finish(ExitCode.ok, { packages: results });
    if (stopped) out(table([[WATCHER_NAME, 'stopped', '1']], ['package', 'action', 'instances']));
    else err(`${WATCHER_NAME} is not running under the app's PM2; nothing to stop.`);
    return ExitCode.ok;
  });
}
