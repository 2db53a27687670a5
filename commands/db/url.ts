import { ExitCode, OpsError } from '../../src/errors.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { envelope, out } from '../shared/output.js';
import { localConfig } from './local.js';

export interface UrlOptions extends GlobalOptions {
  showPassword?: boolean;
}

/** `opsctl db url [--show-password]`: the database URL opsctl uses. */
export function url(cmd: Invocation<UrlOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const value = config.database.url;
    if (!value) {
      throw new OpsError(
        'DB_NO_URL',
        'No database URL: nothing is configured and the embedded PostgreSQL was never started.',
        {
          hint: 'Run `opsctl db start`, or set database.url / DATABASE_URL.',
          exitCode: ExitCode.failed,
        },
      );
    }
    if (!cli.opts.showPassword) {
      if (!cli.json) out(value); // out() masks the password
      return cli.finish(ExitCode.ok, { url: value, source: config.database.source });
    }
    // the one place a password is printed on purpose: straight to stdout, never through a logger
    const doc = cli.json
      ? JSON.stringify(
          envelope(cli.name, ExitCode.ok, cli.startedAt, { url: value, source: config.database.source }),
          null,
          2,
        )
      : value;
    process.stdout.write(`${doc}\n`);
    return ExitCode.ok;
  });
}
