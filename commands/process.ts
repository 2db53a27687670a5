import type { Command } from 'commander';
import { scalePackage, startPackages, stopPackages, verifyStartable } from '../src/pm2/control.js';
import { logOffsets, pm2LogFiles, readLogTail } from '../src/pm2/logs.js';
import { runCommand } from './context.js';
import { err, out, table } from './output.js';
import { appPm2, namedPackages } from './pm2-context.js';

const HEALTH_TIMEOUT_MS = 30_000;
const FOLLOW_POLL_MS = 500;

function control(verb: 'start' | 'stop' | 'restart') {
  return (cmd: Command, ...args: unknown[]): Promise<number> =>
    runCommand(cmd, async (cli) => {
      const config = cli.config();
      const named = namedPackages(config, args[0]);
      const packages = verifyStartable(
        named.length ? named : config.packages,
        named.length > 0 || Boolean(cli.opts.package),
      );
      const pm2 = appPm2(cli, config);
      const results =
        verb === 'stop'
          ? await stopPackages(pm2, packages)
          : await startPackages(pm2, config, packages, HEALTH_TIMEOUT_MS, verb);
      if (cli.json) return cli.finish(0, { packages: results });
      out(
        table(
          results.map((r) => [r.name, r.action, String(r.instances)]),
          ['package', 'action', 'instances'],
        ),
      );
      return 0;
    });
}

export const start = control('start');
export const stop = control('stop');
export const restart = control('restart');

/** `opsctl logs <package> [--lines n] [--follow]`: PM2's log files of the package, redacted. */
export function logs(cmd: Command, ...args: unknown[]): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const [pkg] = namedPackages(config, [args[0]]);
    const opts = cli.opts as { lines: number; follow?: boolean };
    const files = pm2LogFiles(appPm2(cli, config).home, pkg!.name);
    const lines = readLogTail(files, opts.lines);
    if (cli.json && !opts.follow) return cli.finish(0, { package: pkg!.name, files, lines });
    for (const line of lines) out(line);
    if (!opts.follow) return 0;
    err(`… following ${pkg!.name}'s logs; Ctrl-C stops.`);
    let offsets = logOffsets(files);
    for (;;) {
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      for (const line of readLogTail(files, Number.MAX_SAFE_INTEGER, offsets)) out(line);
      offsets = logOffsets(files);
    }
  });
}

/** `opsctl scale <package> <n|+n|-n>` */
export function scale(cmd: Command, ...args: unknown[]): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const [pkg] = namedPackages(config, [args[0]]);
    const result = await scalePackage(appPm2(cli, config), pkg!, String(args[1]));
    if (!cli.json) {
      err(
        result.changed
          ? `✔ ${pkg!.name}: ${result.from} → ${result.to} instances`
          : `✔ ${pkg!.name} already runs ${result.to} instance(s); nothing to do.`,
      );
    }
    return cli.finish(0, { package: pkg!.name, ...result });
  });
}
