import { basename } from 'node:path';
import type { Runner } from '../process/runner.js';
import { formatCommandLine } from './command-line.js';
import { DEFAULT_INSPECT_PORT, parseInspectFlags } from './inspect-flags.js';
import { type Listener, listListeners, readCommandLine } from './listeners.js';
import { readProcEnvVar, readProcExe } from './proc-pid.js';

/** An open Node.js inspector: the process and the address it listens on. */
export interface OpenInspector {
  pid: number;
  /** Redacted command line. */
  command: string;
  address: string;
  /** 0 when the flag asked for a random port (`--inspect=0`): which one is not known without asking. */
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
 * process without a flag (SIGUSR1). `--inspect=0` is reported on its host with port 0. Not found: an inspector opened
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

async function inspectorsOf(pid: number, sockets: Listener[], options: InspectorScanOptions): Promise<OpenInspector[]> {
  const [argv, exe, nodeOptions] = await Promise.all([
    readCommandLine(pid, options),
    readProcExe(pid, options.procRoot),
    readProcEnvVar(pid, 'NODE_OPTIONS', options.procRoot),
  ]);
  if (!argv) return [];
  // NODE_OPTIONS holds options only, read before argv's own (which end at the script), as node does
  const chosen = parseInspectFlags([...(nodeOptions?.split(/\s+/).filter(Boolean) ?? []), ...argv.slice(1)]);
  const isNode = [exe, argv[0]].some((p) => p && /^node(js)?[\d.]*(\.exe)?$/i.test(basename(p.split(' ')[0]!)));
  if (!isNode && !chosen) return [];
  const command = formatCommandLine(argv);
  if (chosen?.atStart && chosen.port === 0) {
    return [{ pid, command, address: chosen.host, port: 0, flag: chosen.flag }];
  }
  const port = chosen?.port ?? DEFAULT_INSPECT_PORT;
  return sockets
    .filter((s) => s.port === port)
    .map((s) => ({ pid, command, address: s.address, port: s.port, flag: chosen?.flag }));
}
