import { ExitCode, OpsError, usageError } from '../errors.js';
import { isWildcard } from '../net/address.js';
import { DEFAULT_INSPECT_PORT } from '../net/inspect-flags.js';
import { findOpenInspectors, readInspectFlag } from '../net/inspectors.js';
import { listListeners, readCommandLine } from '../net/listeners.js';
import { describeHolder, findPortHolders } from '../net/port-holders.js';
import { isProcessRunning } from '../process/process-group.js';
import type { Runner } from '../process/runner.js';
import { isNodeProcess } from './find-process.js';
import type { InspectorAddress } from './inspector-url.js';
import { readInspectorTargets } from './json-list.js';

/** Node opens its inspector within milliseconds of SIGUSR1; a loaded host gets plenty of slack. */
const SIGUSR1_WAIT_MS = 15_000;
const POLL_MS = 250;

/** A process' inspector, and whether opsctl turned it on (SIGUSR1) just now. */
export interface OpenedInspector {
  address: InspectorAddress;
  openedNow: boolean;
}

/**
 * The inspector of Node.js process `pid`, found through `/json/list` on the ports it listens on; when it
 * has none, turned on with SIGUSR1 (Linux, macOS) and found on the port that opens (README, "`opsctl debug attach`").
 * A dead pid or one that is not Node.js is a usage error (exit 2).
 */
export async function openInspector(pid: number, runner: Runner, appPort?: number): Promise<OpenedInspector> {
  if (!isProcessRunning(pid)) {
    throw usageError(`No process with PID ${pid} is running.`, "Check the PID (`opsctl status` lists the app's).");
  }
  if (!(await isNodeProcess(pid))) {
    const argv = await readCommandLine(pid, { runner });
    throw usageError(
      `PID ${pid} is not a Node.js process${argv ? ` (it runs ${argv[0]})` : ''}; only Node.js has an inspector to attach to.`,
      'Give the PID of the node process itself (for `npm start`, the node process under npm).',
    );
  }
  const existing = await inspectorOf(pid, runner, appPort);
  if (existing) return { address: existing, openedNow: false };
  if (process.platform === 'win32') {
    throw new OpsError('NO_INSPECTOR', `PID ${pid} has no inspector open, and Windows has no SIGUSR1 to turn one on.`, {
      hint: 'Restart the process with --inspect=127.0.0.1:9229.',
      exitCode: ExitCode.failed,
    });
  }
  const before = new Set((await portsOf(pid, runner)) ?? []);
  try {
    process.kill(pid, 'SIGUSR1');
  } catch (error) {
    throw new OpsError('SIGNAL', `Could not send SIGUSR1 to PID ${pid}: ${(error as Error).message}.`, {
      hint: 'Run opsctl as the user that runs the process.',
      exitCode: ExitCode.failed,
      cause: error,
    });
  }
  const deadline = Date.now() + SIGUSR1_WAIT_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    if (!isProcessRunning(pid)) {
      throw new OpsError('DEBUG_EXITED', `PID ${pid} exited after SIGUSR1 (it does not turn on the inspector).`, {
        exitCode: ExitCode.failed,
      });
    }
    for (const port of (await portsOf(pid, runner)) ?? []) {
      if (before.has(port)) continue;
      const targets = await readInspectorTargets('127.0.0.1', port);
      if (targets?.[0]) return { address: targets[0], openedNow: true };
    }
  }
  throw await notOpened(pid, runner);
}

/**
 * An inspector `pid` already has open: on a port its flags name (or 9229); else on another port it listens on (one
 * opened by SIGUSR1 on an `--inspect-port` that PM2's process title hides). `appPort` (the package's own) is asked last.
 */
async function inspectorOf(pid: number, runner: Runner, appPort?: number): Promise<InspectorAddress | undefined> {
  const found = (await findOpenInspectors({ runner }))?.filter((i) => i.pid === pid && i.port) ?? [];
  for (const i of found) {
    const targets = await readInspectorTargets(isWildcard(i.address) ? '127.0.0.1' : i.address, i.port);
    if (targets?.[0]) return targets[0];
  }
  const others = ((await portsOf(pid, runner)) ?? []).filter((p) => !found.some((i) => i.port === p));
  for (const port of [...new Set(others)].sort((a, b) => Number(a === appPort) - Number(b === appPort))) {
    const targets = await readInspectorTargets('127.0.0.1', port);
    if (targets?.[0]) return targets[0];
  }
  return undefined;
}

async function portsOf(pid: number, runner: Runner): Promise<number[] | undefined> {
  return (await listListeners({ runner }))?.filter((l) => l.pid === pid).map((l) => l.port);
}

/**
 * Why SIGUSR1 opened nothing: usually another process holds the port Node tries (9229, or its --inspect-port). When
 * that is another process' inspector (the one of a PM2 cluster's instance opened by an earlier attach), stopping it is
 * the wrong advice: attach to it, or close it first.
 */
async function notOpened(pid: number, runner: Runner): Promise<OpsError> {
  // its flags may be in NODE_OPTIONS or PM2's node_args, which its command line does not show
  const port = (await readInspectFlag(pid, { runner })).chosen?.port || DEFAULT_INSPECT_PORT;
  const holders = (await findPortHolders(port, { runner }))?.filter((h) => h.pid !== pid) ?? [];
  const inspector = holders.length > 0 && (await readInspectorTargets('127.0.0.1', port)) !== undefined;
  const by = holders.map(describeHolder).join(' and ');
  const held = holders.length ? `: port ${port} is in use by ${inspector ? `the inspector of ${by}` : by}` : '';
  const attachThere = `\`opsctl debug attach --port ${port}\``;
  return new OpsError(
    'NO_INSPECTOR',
    `PID ${pid} did not open its inspector within ${SIGUSR1_WAIT_MS / 1000} s of SIGUSR1${held}.`,
    {
      hint: inspector
        ? `Node opens every process' inspector on port ${port} unless it was started with --inspect-port, so one at a time: attach to that one (${attachThere}), or close its inspector first (restart that process, or run \`require('node:inspector').close()\` in it), then try again.`
        : held
          ? `Stop that process (or attach to it instead: ${attachThere}), then try again.`
          : 'The process may handle SIGUSR1 itself (then it cannot be turned on from outside); restart it with --inspect=127.0.0.1:9229.',
      exitCode: ExitCode.failed,
    },
  );
}
