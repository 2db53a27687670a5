import { findPackageProcess, processFolder } from '../../src/debug/find-process.js';
import { type InspectorAddress, nodeInspectCommand } from '../../src/debug/inspector-url.js';
import { readInspectorTargets } from '../../src/debug/json-list.js';
import { openInspector } from '../../src/debug/open-inspector.js';
import { loadPty, runInspectSession } from '../../src/debug/pty-session.js';
import { ExitCode, OpsError, usageError } from '../../src/errors.js';
import type { AppPackage } from '../../src/packages/types.js';
import { type Cli, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err } from '../shared/output.js';
import { appPm2 } from '../shared/pm2-context.js';
import { choosePackage, printInspector } from './shared.js';

export interface DebugAttachFlags extends GlobalOptions {
  pid?: number;
  port?: number;
  instance?: number;
}

interface Target {
  address: InspectorAddress;
  pid?: number;
  /** What it is, for messages: `instance 0 of backend under PM2 (pm_id 3)`, `PID 4321`. */
  how: string;
  openedNow: boolean;
  pkg?: AppPackage;
}

/** `opsctl debug attach [package] [--pid <pid>] [--port <port>] [--instance <k>]` (README, "`opsctl debug attach`"). */
export function debugAttach(cmd: Invocation<DebugAttachFlags>, name?: string): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const target = await findTarget(cli, name);
    const { address } = target;
    const fields = {
      package: target.pkg?.name ?? null,
      pid: target.pid ?? null,
      url: address.url,
      host: address.host,
      port: address.port,
      openedNow: target.openedNow,
    };
    if (target.openedNow && !cli.json) {
      err(`✔ Turned on the inspector of ${target.how} with SIGUSR1 (${address.host}:${address.port}).`);
    }
    // a process named by --pid or --port: VS Code maps the folder it runs in (README, "`opsctl debug attach`")
    // VS Code maps the folder the process runs in: a deployed package's release folder, a --pid's own folder
    const running = target.pid === undefined ? undefined : await processFolder(target.pid);
    const dir = target.pkg?.dir ?? running ?? process.cwd();
    const root = target.pkg ? cli.config().root : dir;
    const pkg = target.pkg ?? { name: 'the process', dir };
    // no terminal (a script, CI) or --json: no session, the URL and how to attach (the inspector stays open)
    if (cli.json || !process.stdin.isTTY || !process.stdout.isTTY) {
      if (!cli.json) {
        printInspector(pkg as AppPackage, address, root, target.pid, running ?? dir);
        err('No terminal here, so no session was opened; attach with one of the above.');
        closingHint(target);
      }
      return cli.finish(ExitCode.ok, { ...fields, session: false });
    }
    const loaded = await loadPty();
    if (!loaded.ok) {
      throw new OpsError('NO_PTY', `Cannot open a debugger session here: node-pty could not load (${loaded.reason}).`, {
        hint: `Attach with \`${nodeInspectCommand(address)}\` (the inspector stays open).`,
        exitCode: ExitCode.failed,
      });
    }
    err(
      `Attaching to ${target.how}: ${nodeInspectCommand(address)} (.exit or Ctrl-D ends the session; the process keeps running)`,
    );
    const signal = cli.deferSignals(5_000);
    const code = await runInspectSession(
      loaded.pty,
      address,
      { input: process.stdin, output: process.stdout },
      { cwd: target.pkg?.dir ?? process.cwd(), signal },
    );
    if (signal.aborted) throw signal.reason;
    err(`✔ Session ended (node inspect exited ${code}); ${target.how} keeps running.`);
    closingHint(target);
    return cli.finish(ExitCode.ok, { ...fields, session: true });
  });
}

async function findTarget(cli: Cli<DebugAttachFlags>, name: string | undefined): Promise<Target> {
  const { pid, port, instance } = cli.opts;
  if (pid !== undefined && port !== undefined) {
    throw usageError('--pid and --port both name what to attach to.', 'Give one of them.');
  }
  if (instance !== undefined && (pid !== undefined || port !== undefined)) {
    throw usageError(
      '--instance picks a PM2 instance of a package; --pid and --port already name the process.',
      'Leave out --instance.',
    );
  }
  if (port !== undefined) {
    const pkg = name ? await choosePackage(cli, cli.config(), name) : undefined;
    const targets = await readInspectorTargets('127.0.0.1', port);
    if (!targets?.[0]) {
      throw new OpsError('NO_INSPECTOR', `Nothing on 127.0.0.1:${port} answers as a Node.js inspector (/json/list).`, {
        hint: "Check the port (doctor's `inspector` check lists open inspectors), or attach by --pid.",
        exitCode: ExitCode.failed,
      });
    }
    return { address: targets[0], how: `the inspector on port ${port}`, openedNow: false, pkg };
  }
  if (pid !== undefined) {
    const opened = await openInspector(pid, cli.runner);
    return { ...opened, pid, how: `PID ${pid}` };
  }
  const config = cli.config();
  const pkg = await choosePackage(cli, config, name);
  const found = await findPackageProcess(pkg, { pm2: appPm2(cli, config), runner: cli.runner, instance });
  const opened = await openInspector(found.pid, cli.runner, pkg.port);
  return { ...opened, pid: found.pid, how: `${found.how}, PID ${found.pid}`, pkg };
}

/** The inspector stays open after the session: say so, and how it closes (Node cannot close it from outside). */
function closingHint(target: Target): void {
  const restart = target.pkg ? `\`opsctl restart ${target.pkg.name}\`` : 'a restart of the process';
  err(
    `→ Its inspector stays open on ${target.address.host}:${target.address.port}. Node cannot close it from outside the ` +
      `process: ${restart} closes it, or \`require('node:inspector').close()\` run inside it (DevTools console).`,
  );
}
