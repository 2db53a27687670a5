import chalk from 'chalk';
import { describeGit } from '../../src/app/provenance.js';
import { ExitCode } from '../../src/errors.js';
import { startCommand } from '../../src/pm2/ecosystem.js';
import { type PackageStatus, readStatus } from '../../src/pm2/status.js';
import { type Invocation, runCommand } from '../shared/context.js';
import { err, out, table } from '../shared/output.js';
import { appPm2 } from '../shared/pm2-context.js';

/** `opsctl status`: one row per instance (a package with none shows as not running). */
export function status(cmd: Invocation): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const result = await readStatus(appPm2(cli, config), config);
    if (cli.json) return cli.finish(ExitCode.ok, { packages: result.packages });
    if (!result.daemon) err('PM2 is not running for this app: nothing is deployed (`opsctl deploy` starts it).');
    const libraries = new Set(config.packages.filter((p) => !startCommand(p)).map((p) => p.name));
    const rows = result.packages.flatMap((p) => {
      const port = p.port === undefined ? '' : String(p.port);
      const health = p.health === undefined ? '' : p.health === 'ok' ? chalk.green('ok') : chalk.red(p.health);
      if (p.orphan || p.candidate) {
        const row = (k: number) => [
          k ? '' : p.name,
          String(p.instances[k]!.id),
          String(p.instances[k]!.pid || ''),
          p.candidate ? chalk.cyan('candidate') : chalk.yellow('not in the config'),
        ];
        return p.instances.map((_, k) => [...row(k), '', '', '', '', '', '']);
      }
      if (!p.instances.length) {
        const state = libraries.has(p.name) ? 'library (no start script)' : 'not running';
        return [[p.name, '', '', chalk.dim(state), '', '', '', '', port, '']];
      }
      return p.instances.map((i, k) => [
        k ? '' : p.name,
        String(i.id),
        String(i.pid || ''),
        i.state === 'online' ? chalk.green(i.state) : chalk.red(i.state),
        formatDuration(i.uptimeMs),
        String(i.restarts),
        `${(i.memoryBytes / 1024 / 1024).toFixed(1)} MB`,
        `${i.cpu}%`,
        k ? '' : port,
        k ? '' : health,
      ]);
    });
    out(table(rows, ['package', '#', 'pid', 'state', 'uptime', 'restarts', 'memory', 'cpu', 'port', 'health']));
    const orphans = result.packages.filter((p) => p.orphan).map((p) => p.name);
    if (orphans.length) {
      err(
        `${orphans.join(', ')} ${orphans.length > 1 ? 'run' : 'runs'} under the app's PM2 but ${orphans.length > 1 ? 'are' : 'is'} not in the config; \`opsctl stop --orphans\` stops and deletes ${orphans.length > 1 ? 'them' : 'it'}.`,
      );
    }
    for (const p of result.packages.filter((c) => c.candidate)) {
      const release = p.release ? `release ${p.release}` : 'a release';
      err(
        p.deployPid
          ? `${p.name}: a release proving itself for the deploy running now (pid ${p.deployPid}; ${release}); that deploy deletes it.`
          : `${p.name}: left by a deploy that did not finish (${release}); the next deploy deletes it, or \`opsctl stop --orphans\`.`,
      );
    }
    for (const p of result.packages) printRelease(p);
    for (const p of result.packages) {
      const n = p.instances.length;
      if (!n || p.configInstances === undefined || n === p.configInstances) continue;
      const why = p.scaled ? ', scaled by hand' : '';
      out(`${p.name}: ${n} instance${n > 1 ? 's' : ''} (config: ${p.configInstances}${why})`);
    }
    return ExitCode.ok;
  });
}

/** `api: release 3f9a1c2b7d4e, 1a2b3c4 on main, version 1.0.0, deployed by ops at …`; a rollback says so. */
function printRelease(p: PackageStatus): void {
  if (!p.release || !p.instances.length || p.candidate || p.orphan) return;
  const made = p.provenance
    ? `, ${describeGit(p.provenance.git)}${p.provenance.version ? `, version ${p.provenance.version}` : ''}, deployed by ${p.provenance.by} at ${p.provenance.at}`
    : ' (no provenance recorded: deployed by an older opsctl)';
  out(`${p.name}: release ${p.release}${made}`);
  const back = p.rolledBack;
  if (back) {
    const how =
      back.why === 'failed'
        ? `release ${back.from} failed once live at ${back.at}, and ${p.release} was put back`
        : `put back in place of release ${back.from} by deploy --rollback at ${back.at}`;
    out(chalk.yellow(`${p.name}: ↺ a rollback: ${how}`));
  }
}

function formatDuration(ms: number): string {
  if (!ms) return '';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
