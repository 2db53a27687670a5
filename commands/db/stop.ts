import { stopEmbedded } from '../../src/db/embedded.js';
import { ExitCode } from '../../src/errors.js';
import { type Invocation, runCommand } from '../shared/context.js';
import { err } from '../shared/output.js';
import { localConfig, progress } from './local.js';

/** `opsctl db stop` */
export function stop(cmd: Invocation): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const res = await stopEmbedded({ root: config.root, runner: cli.runner, onProgress: progress(cli) });
    if (!cli.json) err(res.wasRunning ? '✔ PostgreSQL stopped.' : 'PostgreSQL is not running; nothing to do.');
    return cli.finish(ExitCode.ok, { ...res, running: false });
  });
}
