import { ExitCode } from '../../src/errors.js';
import { logOffsets, pm2LogFiles, readLogTail } from '../../src/pm2/logs.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out } from '../shared/output.js';
import { appPm2, namedPackages } from '../shared/pm2-context.js';

const FOLLOW_POLL_MS = 500;

export interface LogsOptions extends GlobalOptions {
  lines: number;
  follow?: boolean;
}

/** `opsctl logs <package> [--lines n] [--follow]`: PM2's log files of the package, redacted. */
export function logs(cmd: Invocation<LogsOptions>, name: string): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const [pkg] = namedPackages(config, [name]);
    const opts = cli.opts;
    const files = pm2LogFiles(appPm2(cli, config).home, pkg!.name);
    const lines = readLogTail(files, opts.lines);
    if (cli.json && !opts.follow) return cli.finish(ExitCode.ok, { package: pkg!.name, files, lines });
    for (const line of lines) out(line);
    if (!opts.follow) return ExitCode.ok;
    err(`… following ${pkg!.name}'s logs; Ctrl-C stops.`);
    let offsets = logOffsets(files);
    for (;;) {
      await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      for (const line of readLogTail(files, Number.MAX_SAFE_INTEGER, offsets)) out(line);
      offsets = logOffsets(files);
    }
  });
}
