import type { ResolvedConfig } from '../../src/config/types.js';
import { ExitCode } from '../../src/errors.js';
import { startWatcher, WATCHER_NAME } from '../../src/pm2/watcher.js';
import type { Cli } from '../shared/context.js';
import { err } from '../shared/output.js';
import { appPm2 } from '../shared/pm2-context.js';

/**
 * `opsctl watch --daemon`: the same command line without `--daemon`, run by the app's PM2 as `opsctl-watch`
 * (README, "`opsctl watch`"); `status` shows it, `opsctl stop opsctl-watch` ends it.
 */
export async function startDaemon(cli: Cli, config: ResolvedConfig): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== '--daemon');
  const pm2 = appPm2(cli, config);
  await pm2.verifyStartable();
  const p = await startWatcher(pm2, {
    root: config.root,
    node: process.execPath,
    bin: process.argv[1]!,
    args,
    cwd: process.cwd(),
  });
  if (cli.json) return cli.finish(ExitCode.ok, { watcher: { name: WATCHER_NAME, pid: p.pid, state: p.state } });
  err(`✔ ${WATCHER_NAME} runs under the app's PM2 (pid ${p.pid}); \`opsctl status\` shows it.`);
  err(
    `→ Its alerts and delivery attempts go to ${pm2.home}/logs/${WATCHER_NAME}-*.log; \`opsctl stop ${WATCHER_NAME}\` ends it.`,
  );
  return ExitCode.ok;
}
