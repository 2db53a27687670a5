import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, OpsError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';

/** How PM2 runs a package: its node entry in cluster mode when the start script is `node <file>`, else npm. */
export interface StartCommand {
  script: string;
  args: string[];
  nodeArgs: string[];
  /** Cluster mode: zero-downtime reloads and `scale`. Only for a plain `node <file>` start script. */
  cluster: boolean;
}

const NODE_START = /^node((?:\s+--?[\w-]+(?:=\S+)?)*)\s+(\S+\.(?:c|m)?js)((?:\s+\S+)*)\s*$/;

export function startCommand(pkg: AppPackage): StartCommand | undefined {
  const start = pkg.scripts.start;
  if (start === undefined) return undefined;
  const match = NODE_START.exec(start.trim());
  if (match && !/[|&;<>$`"']/.test(start)) {
    const split = (s: string | undefined) => (s ?? '').trim().split(/\s+/).filter(Boolean);
    return { script: match[2]!, args: split(match[3]), nodeArgs: split(match[1]), cluster: true };
  }
  return { script: 'npm', args: ['run', 'start'], nodeArgs: [], cluster: false };
}

/** Instances from config: a number, `max` (one per CPU, cluster only), default 1. */
export function desiredInstances(pkg: AppPackage, command: StartCommand): number | 'max' {
  if (!command.cluster) return 1;
  return pkg.instances ?? 1;
}

/** A file of `templates/pm2`, whether running from `src/` (tests) or `dist/cli/` (the built CLI). */
function templatePath(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++, dir = dirname(dir)) {
    const file = join(dir, 'templates', 'pm2', name);
    if (existsSync(file)) return file;
  }
  throw new OpsError('TEMPLATES_MISSING', `The PM2 template of opsctl (templates/pm2/${name}) is missing.`, {
    hint: 'Reinstall opsctl.',
  });
}

/** Makes a cluster worker's log writes synchronous, so the lines of a process that exits at once are kept. */
const SYNC_LOGS = 'sync-logs.cjs';

/** A process beside the package's own: another PM2 name, one fork-mode instance, no restarts (a crash is final). */
export interface SideProcess {
  name: string;
  /** PM2's log files of it (out, error). */
  logs: [string, string];
}

/**
 * Write `<appsDir>/<pkg>.json`, the PM2 ecosystem file of one package, running from `currentDir` (a
 * symlink to the active release, so a reload picks up the new release). The environment is not written here:
 * it reaches PM2 through the environment of the `pm2` command (`--update-env`), so no secret lands in a file.
 * No shell runs anything (README, "`opsctl deploy`"): PM2 hands a `script` that contains a space to `bash -c`, so the
 * script is given relative to `cwd` (a start script's file name has no space); the app's own path, spaces and `;`
 * included, only ever travels as one argument.
 * With `side`, the file runs the package as that side process (deploy's candidate, README, "`opsctl deploy`").
 */
export function writeEcosystem(appsDir: string, pkg: AppPackage, currentDir: string, side?: SideProcess): string {
  const command = startCommand(pkg);
  if (!command) throw new OpsError('NO_START', `${pkg.name} has no start script.`, { exitCode: ExitCode.usage });
  const defaults = JSON.parse(readFileSync(templatePath('app.json'), 'utf8')) as Record<string, unknown>;
  mkdirSync(appsDir, { recursive: true });
  const cluster = command.cluster && !side;
  const nodeArgs = [...command.nodeArgs];
  if (cluster) {
    // fork mode needs no preload: PM2's daemon writes a fork-mode process's logs itself
    copyFileSync(templatePath(SYNC_LOGS), join(appsDir, SYNC_LOGS));
    nodeArgs.unshift('--require', join(appsDir, SYNC_LOGS));
  }
  const name = side?.name ?? pkg.name;
  const app = {
    ...defaults,
    name,
    cwd: currentDir,
    script: command.script,
    args: command.args,
    ...(nodeArgs.length ? { node_args: nodeArgs } : {}),
    ...(cluster
      ? {
          exec_mode: 'cluster',
          instances: desiredInstances(pkg, command) === 'max' ? 0 : desiredInstances(pkg, command),
        }
      : { exec_mode: 'fork', instances: 1, ...(command.cluster ? {} : { interpreter: 'none' }) }),
    ...(side ? { autorestart: false, out_file: side.logs[0], error_file: side.logs[1] } : {}),
  };
  const file = join(appsDir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ apps: [app] }, null, 2)}\n`);
  return file;
}
