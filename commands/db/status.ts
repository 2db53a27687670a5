import { readEmbeddedStatus } from '../../src/db/embedded.js';
import { ExitCode } from '../../src/errors.js';
import { type Invocation, runCommand } from '../shared/context.js';
import { out, table } from '../shared/output.js';
import { localConfig } from './local.js';

/** `opsctl db status`: is the embedded PostgreSQL running, and where. */
export function status(cmd: Invocation): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const s = readEmbeddedStatus(config.root);
    if (!cli.json) {
      const state = s.running ? 'running' : s.initialised ? 'stopped' : 'not initialised (run `opsctl db start`)';
      out(
        table([
          ['state', state],
          ['port', s.port ? String(s.port) : '-'],
          ['data', s.dataDir],
          ['url', s.url ?? '-'],
        ]),
      );
    }
    return cli.finish(ExitCode.ok, {
      running: s.running,
      initialised: s.initialised,
      port: s.port ?? null,
      dataDir: s.dataDir,
      url: s.url ?? null,
    });
  });
}
