import { readTarget } from '../../src/config/target.js';
import { ExitCode } from '../../src/errors.js';
import { haproxyConfigText } from '../../src/lb/haproxy-config.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { out } from '../shared/output.js';

export interface LbHaproxyFlags extends GlobalOptions {
  target: string;
  bind?: string;
}

/** `opsctl lb haproxy --target <name> [--bind <address>] [--json]` (README, "Load balancer: HAProxy"). */
export function haproxy(cmd: Invocation<LbHaproxyFlags>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const target = readTarget(config, cli.opts.target);
    const text = haproxyConfigText({ target, packages: config.packages, bind: cli.opts.bind });
    if (cli.json) return cli.finish(ExitCode.ok, { config: text });
    out(text.trimEnd());
    return ExitCode.ok;
  });
}
