import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExitCode, OpsError, usageError } from '../errors.js';
import { isNodeExecutable } from '../net/command-line.js';
import { findPortHolders } from '../net/port-holders.js';
import { readProcCmdline, readProcCwd, readProcExe } from '../net/proc-pid.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from '../pm2/cli.js';
import { isDaemonRunning } from '../pm2/home.js';
import type { Runner } from '../process/runner.js';

/** The running process `debug attach` found for a package, and how it found it (for messages). */
export interface FoundProcess {
  pid: number;
  /** `instance 0 of backend under PM2 (pm_id 3)`, `the holder of backend's port 4000`. */
  how: string;
}

/**
 * Is this a Node.js process? From its executable (which process.title cannot change); its argv[0] only when the
 * executable cannot be read (another user's process). A process that merely calls itself `node` (`exec -a node`, a
 * `node` shim of another runtime) would die of the SIGUSR1 that follows.
 */
export async function isNodeProcess(pid: number): Promise<boolean> {
  const exe = await readProcExe(pid);
  if (exe !== undefined) return isNodeExecutable(exe);
  return isNodeExecutable((await readProcCmdline(pid))?.[0]);
}

/** The folder a process runs in, where its relative paths (and so its sources, for a debugger) start. */
export function processFolder(pid: number): Promise<string | undefined> {
  return readProcCwd(pid);
}

/** npm itself runs on node (`node …/npm-cli.js run start`): it is not the app. */
async function isNpm(pid: number): Promise<boolean> {
  const argv = (await readProcCmdline(pid)) ?? [];
  return argv.some((a) => /(^|[/\\])npm(-cli\.js)?$/.test(a));
}

/**
 * The package's own Node.js process: under PM2 its instance `instance` (by pm_id, 0 first), else the holder of its
 * port. `npm start` under PM2 runs node as a descendant of npm: that node process is the one returned.
 */
export async function findPackageProcess(
  pkg: AppPackage,
  options: { pm2: Pm2; runner: Runner; instance?: number },
): Promise<FoundProcess> {
  const { pm2, runner, instance } = options;
  const instances = isDaemonRunning(pm2.home)
    ? (await pm2.jlist()).filter((p) => p.name === pkg.name && p.pid > 0).sort((a, b) => a.pmId - b.pmId)
    : [];
  if (instances.length) {
    const k = instance ?? 0;
    const chosen = instances[k];
    if (!chosen) {
      throw usageError(
        `${pkg.name} has ${instances.length} running instance${instances.length > 1 ? 's' : ''} under PM2; there is no instance ${k}.`,
        `Pick --instance 0${instances.length > 1 ? ` to ${instances.length - 1}` : ''} (\`opsctl status\` lists them).`,
      );
    }
    return {
      pid: await appProcessOf(chosen.pid),
      how: `instance ${k} of ${pkg.name} under PM2 (pm_id ${chosen.pmId})`,
    };
  }
  if (instance !== undefined) {
    throw new OpsError('NOT_RUNNING', `${pkg.name} has no instance running under PM2.`, {
      hint: `Deploy it (\`opsctl deploy ${pkg.name}\`), or give --pid of the process to attach to.`,
      exitCode: ExitCode.failed,
    });
  }
  const holder = pkg.port === undefined ? undefined : (await findPortHolders(pkg.port, { runner }))?.find((h) => h.pid);
  if (holder?.pid) return { pid: await appProcessOf(holder.pid), how: `the process on ${pkg.name}'s port ${pkg.port}` };
  throw new OpsError(
    'NOT_RUNNING',
    `${pkg.name} is not running: no instance under the app's PM2${pkg.port ? `, nothing listening on port ${pkg.port}` : ''}.`,
    {
      hint: `Start it (\`opsctl deploy ${pkg.name}\`, or \`opsctl debug ${pkg.name}\`), or give --pid or --port.`,
      exitCode: ExitCode.failed,
    },
  );
}

/** `pid` when it is a Node.js app process; for npm (or a shell) the first Node.js descendant that is not npm. */
async function appProcessOf(pid: number): Promise<number> {
  const queue = [pid];
  for (let seen = 0; queue.length && seen < 64; seen++) {
    const current = queue.shift()!;
    if ((await isNodeProcess(current)) && !(await isNpm(current))) return current;
    queue.push(...(await childrenOf(current)));
  }
  return pid;
}

async function childrenOf(pid: number, procRoot = '/proc'): Promise<number[]> {
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  const children: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        const stat = await readFile(join(procRoot, e, 'stat'), 'utf8').catch(() => '');
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")"
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) children.push(Number(e));
      }),
  );
  return children.sort((a, b) => a - b);
}
