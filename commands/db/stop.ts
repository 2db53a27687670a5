import { type ClientGroup, describeClients, readConnectedClients } from '../../src/db/connected-clients.js';
import { readEmbeddedStatus, stopEmbedded } from '../../src/db/embedded.js';
import { describeDatabase } from '../../src/db/target-label.js';
import { ExitCode, errorMessage } from '../../src/errors.js';
import { confirmChange } from '../shared/confirm-change.js';
import { type Cli, type Invocation, runCommand } from '../shared/context.js';
import { err } from '../shared/output.js';
import { localConfig, progress } from './local.js';

/** `opsctl db stop`: asks first when sessions are connected to it (the app's processes would lose their database). */
export function stop(cmd: Invocation): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = localConfig(cli);
    const connected = await confirmWhenInUse(cli, config.root);
    const res = await stopEmbedded({ root: config.root, runner: cli.runner, onProgress: progress(cli) });
    if (!cli.json) err(res.wasRunning ? '✔ PostgreSQL stopped.' : 'PostgreSQL is not running; nothing to do.');
    return cli.finish(ExitCode.ok, { ...res, running: false, connected });
  });
}

/** The sessions that were connected (asked about, or confirmed by --yes); none when it is not running. */
async function confirmWhenInUse(cli: Cli, root: string): Promise<ClientGroup[]> {
  const status = readEmbeddedStatus(root);
  if (!status.running || !status.url) return [];
  const where = `${describeDatabase(status.url)} (embedded)`;
  let groups: ClientGroup[];
  try {
    groups = await readConnectedClients(status.url);
  } catch (error) {
    if (!cli.json) err(`⚠ Could not see who is connected to ${where}: ${errorMessage(error)}`);
    return [];
  }
  if (!groups.length) return groups;
  const count = groups.reduce((n, g) => n + g.count, 0);
  if (!cli.json) err(`⚠ ${count} session(s) are connected to ${where}: ${describeClients(groups)}`);
  await confirmChange(cli, {
    question: `Stop PostgreSQL at ${where}, ending ${count} connected session(s)`,
    destructive: true,
    unchanged: 'PostgreSQL keeps running',
  });
  return groups;
}
