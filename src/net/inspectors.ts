import { basename } from 'node:path';
import type { Runner } from '../process/runner.js';
import { formatCommandLine } from './command-line.js';
import { parseInspectFlags } from './inspect-flags.js';
import { isInspectorSocket } from './inspector-probe.js';
import { type Listener, listListeners, readCommandLine } from './listeners.js';
import { readProcEnvVar, readProcExe } from './proc-pid.js';

/** An open Node.js inspector: the process and the address it listens on. */
export interface OpenInspector {
  pid: number;
  /** Redacted command line. */
  command: string;
  address: string;
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
 * Every inspector listening on this host. Candidates are node processes and processes with an
 * `--inspect` flag (argv or NODE_OPTIONS); a candidate's socket is its inspector when it is on the
 * flag's port, or when it answers the inspector's `/json/version` (SIGUSR1, `inspector.open()`, port 0).
 * Undefined when listening sockets cannot be seen on this host.
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
  const flag = parseInspectFlags([...(nodeOptions?.split(/\s+/) ?? []), ...argv.slice(1)]);
  const isNode = [exe, argv[0]].some((p) => p && /^node(js)?[\d.]*(\.exe)?$/i.test(basename(p.split(' ')[0]!)));
  if (!isNode && !flag) return [];
  const command = formatCommandLine(argv);
  const found = await Promise.all(
    sockets.map(async (s) => {
      const byFlag = flag !== undefined && flag.port !== 0 && s.port === flag.port;
      if (!byFlag && !(await isInspectorSocket(s.address, s.port, options.signal))) return undefined;
      return { pid, command, address: s.address, port: s.port, flag: flag?.flag };
    }),
  );
  return found.filter((i): i is NonNullable<typeof i> => i !== undefined);
}
