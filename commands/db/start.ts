import { startEmbedded } from '../../src/db/embedded.js';
import { ExitCode } from '../../src/errors.js';
import { type Invocation, runCommand } from '../shared/context.js';
import { err, out } from '../shared/output.js';
import { localConfig, progress } from './local.js';

/** `opsctl db start`: initialise (the first time) and start the embedded PostgreSQL under .opsctl/pg. */
export function start(cmd: Invocation): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const res = await startEmbedded({ root: config.root, runner: cli.runner, onProgress: progress(cli) });
    if (!cli.json) {
      if (res.alreadyRunning) err(`PostgreSQL is already running on 127.0.0.1:${res.port}; nothing to do.`);
      else err(`✔ PostgreSQL is running on 127.0.0.1:${res.port}${res.createdDatabase ? ' (database created)' : ''}.`);
      if (config.database.source !== 'embedded') {
        err(
          `⚠ This app uses ${config.database.source === 'env' ? 'DATABASE_URL' : 'database.url'}, not the embedded database.`,
        );
      }
      out(res.url);
    }
    return cli.finish(ExitCode.ok, { ...res, running: true });
  });
}
