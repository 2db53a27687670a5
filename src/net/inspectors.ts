import type { Runner } from '../process/runner.js';
import { formatCommandLine, isNodeExecutable } from './command-line.js';
import { DEFAULT_INSPECT_PORT, type InspectFlag, parseInspectFlags } from './inspect-flags.js';
import { type Listener, listListeners, readCommandLine } from './listeners.js';
import { readProcEnvVar, readProcExe } from './proc-pid.js';

/** An open Node.js inspector: the process and the address it listens on. */
export interface OpenInspector {
  pid: number;
  /** Redacted command line. */
  command: string;
  address: string;
  /** 0 when the arguments do not say which port (`--inspect=0`, PM2 cluster workers): not known without asking. */
  port: number;
  /** The `--inspect…` flag that opened it, when it came from a flag. */
  flag?: string;
}

export interface InspectorScanOptions {
  runner: Runner;
  procRoot?: string;
  signal?: AbortSignal;
}

/**
 * Every inspector listening on this host, found from each process' own arguments, never by sending anything to a
 * port (an app's port would log the request). A socket is an inspector when its process asked for one on that port:
 * `--inspect[-brk|-wait]=[host:]port` or `--inspect-port` (argv or NODE_OPTIONS), or Node's default 9229 for a node
 * process without a flag (SIGUSR1); a PM2 cluster worker's `node_args` (in its `pm2_env`). `--inspect=0` and PM2 cluster
 * workers (whose port node's cluster module picks) are reported on their host with port 0. Not found: an inspector opened
 * at run time on a port no flag names (`inspector.open(4000)`). Undefined when listening sockets cannot be seen.
 */
export async function findOpenInspectors(options: InspectorScanOptions): Promise<OpenInspector[] | undefined> {
  const listeners = await listListeners(options);
  if (!listeners) return undefined;
  const byPid = new Map<number, Listener[]>();
  for (const l of listeners) if (l.pid !== undefined) byPid.set(l.pid, [...(byPid.get(l.pid) ?? []), l]);
  const perProcess = await Promise.all([...byPid].map(([pid, list]) => inspectorsOf(pid, list, options)));
  return perProcess.flat();
}

/**
 * The `--inspect…` flag a process runs with, from its NODE_OPTIONS, its PM2 `node_args` and its arguments (what decides
 * the port SIGUSR1 opens); `argv` undefined when the process is gone or unreadable.
 */
export async function readInspectFlag(
  pid: number,
  options: InspectorScanOptions,
): Promise<{ argv?: string[]; exe?: string; chosen?: InspectFlag; pm2: { nodeArgs: string[]; cluster: boolean } }> {
  const [argv, exe, nodeOptions, pm2Env] = await Promise.all([
    readCommandLine(pid, options),
    readProcExe(pid, options.procRoot),
    readProcEnvVar(pid, 'NODE_OPTIONS', options.procRoot),
    readProcEnvVar(pid, 'pm2_env', options.procRoot),
  ]);
  // PM2 replaces a worker's title with `node <script>`, which hides its flags: its node_args are in its pm2_env
  const pm2 = readPm2Env(pm2Env);
  if (!argv) return { exe, pm2 };
  // NODE_OPTIONS holds options only, read before argv's own (which end at the script), as node does
  const chosen = parseInspectFlags([...splitOptions(nodeOptions), ...pm2.nodeArgs, ...argv.slice(1)]);
  return { argv, exe, chosen, pm2 };
}

async function inspectorsOf(pid: number, sockets: Listener[], options: InspectorScanOptions): Promise<OpenInspector[]> {
  const { argv, exe, chosen, pm2 } = await readInspectFlag(pid, options);
  if (!argv) return [];
  const isNode = isNodeExecutable(exe) || isNodeExecutable(argv[0]);
  if (!isNode && !chosen) return [];
  const command = formatCommandLine(argv);
  // cluster workers get a port of their own from node's cluster module (--inspect-port=9230…): not in their arguments
  const portUnknown = chosen?.atStart && (chosen.port === 0 || (pm2.cluster && pm2.nodeArgs.includes(chosen.flag)));
  if (chosen && portUnknown) return [{ pid, command, address: chosen.host, port: 0, flag: chosen.flag }];
  const port = chosen?.port ?? DEFAULT_INSPECT_PORT;
  return sockets
    .filter((s) => s.port === port)
    .map((s) => ({ pid, command, address: s.address, port: s.port, flag: chosen?.flag }));
}

function splitOptions(value: string | undefined): string[] {
  return value?.split(/\s+/).filter(Boolean) ?? [];
}

/** `node_args` and cluster mode of a PM2 process, from the `pm2_env` JSON PM2 puts in a cluster worker's environment. */
function readPm2Env(pm2Env: string | undefined): { nodeArgs: string[]; cluster: boolean } {
  const none = { nodeArgs: [], cluster: false };
  if (!pm2Env) return none;
  try {
    const env = JSON.parse(pm2Env) as { node_args?: unknown; exec_mode?: unknown };
    const args = env.node_args;
    const nodeArgs = Array.isArray(args)
      ? args.filter((a): a is string => typeof a === 'string')
      : typeof args === 'string'
        ? splitOptions(args)
        : [];
    return { nodeArgs, cluster: env.exec_mode === 'cluster_mode' };
  } catch {
    return none;
  }
}
