import { packageEnv } from '../app/env.js';
import type { ResolvedConfig } from '../config/types.js';
import { ExitCode, OpsError } from '../errors.js';
import { describeHolder, findPortHolders } from '../net/port-holders.js';
import { addScriptSecrets } from '../output/redact.js';
import type { AppPackage } from '../packages/types.js';
import { trackChildGroup } from '../process/exit-cleanup.js';
import { stopGroupsSync } from '../process/process-group.js';
import type { Runner } from '../process/runner.js';
import { type InspectorAddress, parseBindFailure, parseListening } from './inspector-url.js';
import type { DebugLaunch } from './launch.js';

/** How long the package has to announce its inspector (`npm run debug` on a loaded host can take a while). */
export const INSPECTOR_WAIT_MS = 30_000;
/** SIGTERM to the whole tree (npm, sh, node), then SIGKILL after this. */
const STOP_GRACE_MS = 5_000;

/** A package running under the inspector, in a process group of its own. */
export interface DebuggedProcess {
  /** The leader of its process group: what opsctl started (npm for a debug script). */
  pid: number;
  /** The process whose inspector it is (the node under npm and sh), when its socket can be seen; else `pid`. */
  inspectedPid: number;
  address: InspectorAddress;
  /** Settles with the exit code when the process (its group leader) exits. */
  exited: Promise<number>;
  /** Where its output lines go from now on. */
  onLine(sink: (line: string) => void): void;
  /** Stop the whole process tree it started: SIGTERM, a grace period, SIGKILL. Safe to call twice. */
  stop(): void;
}

export interface StartDebugOptions {
  runner: Runner;
  /** Each output line while it starts (the progress shows the last ones). */
  onLine(line: string): void;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Start the package as `launch` says, with the environment deploy gives it (README, "Config"), and wait for
 * `Debugger listening on ws://…`. A failure stops everything it started and throws: the process exited first,
 * its inspector could not bind (naming the holder of the port), or no inspector was announced in time.
 */
export async function startDebugged(
  config: ResolvedConfig,
  pkg: AppPackage,
  launch: DebugLaunch,
  options: StartDebugOptions,
): Promise<DebuggedProcess> {
  const { runner } = options;
  if (!runner.spawn) throw new OpsError('NO_SPAWN', 'This runner cannot start long-lived processes.');
  // npm echoes each script it runs: an inline secret in one is masked in the lines relayed below
  addScriptSecrets(pkg.scripts);
  let sink = options.onLine;
  let announced: ((address: InspectorAddress) => void) | undefined;
  let bindFailed: ((failure: { host: string; port: number; reason: string }) => void) | undefined;
  const child = await runner.spawn(launch.command, launch.args, {
    cwd: pkg.dir,
    env: packageEnv(config, pkg),
    onLine: (line) => {
      const address = parseListening(line);
      if (address) announced?.(address);
      const failure = parseBindFailure(line);
      if (failure) bindFailed?.(failure);
      sink(line);
    },
  });
  if (child.pid === undefined) {
    throw new OpsError('DEBUG_START', `Could not start ${pkg.name}: ${launch.command} did not run.`, {
      hint: 'Check that Node.js and npm are on PATH.',
    });
  }
  const pid = child.pid;
  const forget = trackChildGroup(pid);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    stopGroupsSync([pid], STOP_GRACE_MS);
    forget();
  };
  const exited = child.exited.then((r) => r.exitCode);
  const timeoutMs = options.timeoutMs ?? INSPECTOR_WAIT_MS;
  let timer: NodeJS.Timeout | undefined;
  let bound: { host: string; port: number; reason: string } | undefined;
  let onAbort: (() => void) | undefined;
  try {
    const address = await new Promise<InspectorAddress>((resolve, reject) => {
      announced = resolve;
      bindFailed = (failure) => {
        bound = failure;
        reject(failure);
      };
      void exited.then((code) =>
        reject(
          new OpsError('DEBUG_EXITED', `${pkg.name} exited with code ${code} before its inspector opened.`, {
            hint: 'Its last output lines are above; fix what they say and run opsctl debug again.',
          }),
        ),
      );
      timer = setTimeout(
        () =>
          reject(
            new OpsError(
              'NO_INSPECTOR',
              `${pkg.name} did not announce an inspector (\`Debugger listening on ws://…\`) within ${timeoutMs / 1000} s.`,
              {
                hint:
                  launch.kind === 'script'
                    ? `Make ${pkg.path}/package.json's debug script run node with --inspect=127.0.0.1:<port>.`
                    : 'Its last output lines are above.',
              },
            ),
          ),
        timeoutMs,
      );
      onAbort = () => reject(options.signal?.reason);
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    const holder = (await findPortHolders(address.port, { runner }))?.find((h) => h.pid !== undefined);
    return {
      pid,
      inspectedPid: holder?.pid ?? pid,
      address,
      exited,
      onLine: (next) => {
        sink = next;
      },
      stop,
    };
  } catch (error) {
    stop();
    // the holder is looked up once the package is stopped: it is someone else
    throw bound ? await portFailure(pkg, bound, runner) : error;
  } finally {
    clearTimeout(timer);
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Node could not open its inspector (it would run on without one): name who holds the port, or, when the address is
 * not one of this host's, say so.
 */
async function portFailure(
  pkg: AppPackage,
  failure: { host: string; port: number; reason: string },
  runner: Runner,
): Promise<OpsError> {
  const where = `${pkg.name}'s inspector could not open on`;
  if (!/in use/i.test(failure.reason)) {
    return new OpsError(
      'DEBUG_ADDRESS',
      `${where} ${failure.host}:${failure.port} (${failure.reason}); ${pkg.name} was stopped.`,
      {
        hint: `${failure.host} is not an address of this host: give one of its own to --host (127.0.0.1, the default), or fix the address in the debug script.`,
        exitCode: ExitCode.failed,
      },
    );
  }
  const holders = (await findPortHolders(failure.port, { runner }))?.filter((h) => h.pid !== undefined) ?? [];
  const by = holders.length ? ` by ${holders.map(describeHolder).join(' and ')}` : '';
  return new OpsError(
    'PORT_TAKEN',
    `${where} port ${failure.port} (${failure.reason})${by}; ${pkg.name} was stopped.`,
    {
      hint: `Stop that process, or change the inspector port (packages.${pkg.name}.debugPort, --port, or the debug script).`,
      exitCode: ExitCode.failed,
    },
  );
}
