import { nodeInspectCommand } from '../../src/debug/inspector-url.js';
import { type DebugLaunch, exposureWarning, planLaunch } from '../../src/debug/launch.js';
import { loadPty, runInspectSession } from '../../src/debug/pty-session.js';
import type { DebuggedProcess } from '../../src/debug/start.js';
import { type DebugRun, debugTasks } from '../../src/debug/tasks.js';
import { ExitCode, type ExitCodeValue, isOpsError, OpsError, usageError } from '../../src/errors.js';
import { freePort } from '../../src/net/free-port.js';
import type { AppPackage } from '../../src/packages/types.js';
import { runTasks } from '../../src/tasks/run.js';
import { type Cli, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, exitCodeOf } from '../shared/output.js';
import { appPm2 } from '../shared/pm2-context.js';
import { abortOnHangup } from './hangup.js';
import { choosePackage, packageLine, printInspector, verifyTerminal } from './shared.js';

export interface DebugStartFlags extends GlobalOptions {
  attach?: boolean;
  keep?: boolean;
  port?: number;
  host?: string;
}

/** How long an interrupted `opsctl debug` may take to stop the package's tree (SIGTERM, grace, SIGKILL). */
const STOP_GRACE_MS = 15_000;

/** `opsctl debug [package]` (README, "`opsctl debug`"). */
export function debugStart(cmd: Invocation<DebugStartFlags>, name?: string): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const flags = cli.opts;
    if (flags.keep && !flags.attach)
      throw usageError('--keep only applies with --attach.', 'Add --attach, or leave out --keep.');
    const config = cli.config();
    const pkg = await choosePackage(cli, config, name);
    if (flags.attach) {
      verifyTerminal(
        cli,
        `Run \`opsctl debug ${pkg.name}\` and attach from a terminal with the \`node inspect 127.0.0.1:<port>\` it prints (or DevTools, or VS Code).`,
      );
    }
    const launch = await planLaunch(pkg, { host: flags.host, port: flags.port, freePort });
    const hangup = abortOnHangup(STOP_GRACE_MS);
    try {
      return await debugPackage(cli, pkg, launch, AbortSignal.any([cli.deferSignals(STOP_GRACE_MS), hangup.signal]));
    } finally {
      hangup.dispose();
    }
  });
}

async function debugPackage(
  cli: Cli<DebugStartFlags>,
  pkg: AppPackage,
  launch: DebugLaunch,
  signal: AbortSignal,
): Promise<number> {
  const flags = cli.opts;
  const config = cli.config();
  const lines: string[] = [];
  const run: DebugRun = {
    config,
    pkg,
    launch,
    runner: cli.runner,
    pm2: appPm2(cli, config),
    signal,
    onLine: (line, progress) => {
      lines.push(line);
      // the live renderer shows it as the task's last line; the plain one (CI, no terminal) line by line
      if (cli.renderer === 'default') progress(line);
      else err(packageLine(pkg, line));
    },
  };
  // the progress is finished (and off the screen's live area) before anything else prints or a session opens
  const [error] = await runTasks(debugTasks(run), {}, { renderer: cli.renderer });
  const debugged = run.debugged;
  if (error || !debugged) {
    if (!cli.json && cli.renderer === 'default') for (const line of lines.slice(-15)) err(packageLine(pkg, line));
    return cli.fail(signal.aborted ? signal.reason : error, { package: pkg.name });
  }
  debugged.onLine((line) => err(packageLine(pkg, line)));
  const { address } = debugged;
  const warning = exposureWarning(pkg.name, address.host, address.port);
  if (warning) err(`⚠ ${warning}`);
  const fields = {
    package: pkg.name,
    pid: debugged.inspectedPid,
    url: address.url,
    host: address.host,
    port: address.port,
  };
  // --json: one document when the run ends (its exit code included); the URL alone on stdout is for people and scripts
  if (!cli.json) printInspector(pkg, address, config.root, debugged.inspectedPid);
  const end = (exitCode: ExitCodeValue, failure?: unknown) => {
    debugged.stop();
    // Ctrl-C (or SIGTERM) is how a debug run ends: said plainly; --json still has its INTERRUPTED document
    const stoppedByUser = isOpsError(failure) && ['INTERRUPTED', 'TERMINATED'].includes(failure.code);
    if (stoppedByUser && failure === signal.reason && !cli.json) {
      err(`■ ${pkg.name} stopped, and everything it started.`);
      return exitCode;
    }
    return failure ? cli.fail(failure, fields) : cli.finish(exitCode, fields);
  };
  if (flags.attach) {
    const ended = await attachSession(pkg, debugged, signal, flags.keep ?? false);
    if (ended !== 'keep') return end(ended.exitCode, ended.error);
  } else {
    err(`Ctrl-C stops ${pkg.name} and everything it started.`);
  }
  return untilEnd(pkg, debugged, signal, end);
}

/** Run until the package exits (exit 3 unless it exits 0) or opsctl is interrupted (130/143). */
async function untilEnd(
  pkg: AppPackage,
  debugged: DebuggedProcess,
  signal: AbortSignal,
  end: (exitCode: ExitCodeValue, failure?: unknown) => number,
): Promise<number> {
  const outcome = await Promise.race([debugged.exited, aborted(signal)]);
  if (outcome === 'aborted') return end(exitCodeOf(signal.reason), signal.reason);
  if (outcome === 0) return end(ExitCode.ok);
  return end(
    ExitCode.failed,
    new OpsError('DEBUG_EXITED', `${pkg.name} exited with code ${outcome}.`, {
      hint: 'Its last output lines are above.',
    }),
  );
}

type SessionEnd = 'keep' | { exitCode: ExitCodeValue; error?: unknown };

/** `--attach`: a node inspect session in this terminal; then stop the package unless --keep. */
async function attachSession(
  pkg: AppPackage,
  debugged: DebuggedProcess,
  signal: AbortSignal,
  keep: boolean,
): Promise<SessionEnd> {
  const loaded = await loadPty();
  if (!loaded.ok) {
    err(`✖ Cannot open a debugger session here: node-pty could not load (${loaded.reason}).`);
    err(
      `→ Attach from another terminal with \`${nodeInspectCommand(debugged.address)}\`; Ctrl-C here stops ${pkg.name}.`,
    );
    return 'keep';
  }
  // the package's own lines would tear through the debugger's screen: held while the session runs
  const held: string[] = [];
  debugged.onLine((line) => held.push(line));
  err(
    `Attaching: ${nodeInspectCommand(debugged.address)} (.exit or Ctrl-D ends the session${keep ? '' : ` and stops ${pkg.name}`})`,
  );
  const exitedNow = new AbortController();
  void debugged.exited.then(() => exitedNow.abort());
  const code = await runInspectSession(
    loaded.pty,
    debugged.address,
    { input: process.stdin, output: process.stdout },
    { cwd: pkg.dir, signal: AbortSignal.any([signal, exitedNow.signal]) },
  );
  if (signal.aborted) return { exitCode: exitCodeOf(signal.reason), error: signal.reason };
  if (exitedNow.signal.aborted) {
    for (const line of held.slice(-15)) err(packageLine(pkg, line));
    const exit = await debugged.exited;
    return {
      exitCode: ExitCode.failed,
      error: new OpsError('DEBUG_EXITED', `${pkg.name} exited with code ${exit} during the session.`, {
        hint: 'Its last output lines are above.',
      }),
    };
  }
  if (!keep) {
    err(`✔ Session ended (node inspect exited ${code}); ${pkg.name} stopped.`);
    return { exitCode: ExitCode.ok };
  }
  for (const line of held) err(packageLine(pkg, line));
  debugged.onLine((line) => err(packageLine(pkg, line)));
  err(
    `Session ended; ${pkg.name} keeps running (pid ${debugged.inspectedPid}, ${debugged.address.url}). Ctrl-C stops it.`,
  );
  return 'keep';
}

function aborted(signal: AbortSignal): Promise<'aborted'> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve('aborted');
    signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
}
