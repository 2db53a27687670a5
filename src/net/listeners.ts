import type { Runner } from '../process/runner.js';
import { readProcListenSockets } from './proc-net.js';
import { findSocketOwners, readProcCmdline } from './proc-pid.js';
import { parseLsofFields, parseSsListen } from './tool-output.js';

/** A listening TCP socket and, when we may see it, the process holding it. */
export interface Listener {
  address: string;
  port: number;
  pid?: number;
}

export interface ListenerOptions {
  runner: Runner;
  /** Only sockets on this port (cheaper: fewer inodes to map to processes). */
  port?: number;
  /** A fake /proc for tests. */
  procRoot?: string;
  signal?: AbortSignal;
}

const TOOL_TIMEOUT_MS = 2_000; // lsof can be slow on hosts with many open files

/**
 * The listening TCP sockets of this host. Linux: /proc/net/tcp{,6} mapped to PIDs through /proc/<pid>/fd.
 * Elsewhere: `lsof`, then `ss`. Undefined when none of these is available (we cannot tell).
 */
export async function listListeners(options: ListenerOptions): Promise<Listener[] | undefined> {
  const { port, procRoot } = options;
  const sockets = await readProcListenSockets(procRoot);
  if (sockets) {
    const wanted = sockets.filter((s) => port === undefined || s.port === port);
    const owners = await findSocketOwners(
      wanted.map((s) => s.inode),
      procRoot,
    );
    return wanted.map((s) => ({ address: s.address, port: s.port, pid: owners.get(s.inode) }));
  }
  return listWithTools(options);
}

async function listWithTools({ runner, port, signal }: ListenerOptions): Promise<Listener[] | undefined> {
  const filter = (list: Listener[]) => list.filter((l) => port === undefined || l.port === port);
  const lsof = await runner.run('lsof', ['-nP', `-iTCP${port ? `:${port}` : ''}`, '-sTCP:LISTEN', '-Fpcn'], {
    timeoutMs: TOOL_TIMEOUT_MS,
    signal,
  });
  // lsof exits 1 with no output when nothing matches
  if (!lsof.notFound && !lsof.timedOut && (lsof.exitCode === 0 || !lsof.stdout.trim())) {
    return filter(parseLsofFields(lsof.stdout).map(({ address, port, pid }) => ({ address, port, pid })));
  }
  const ss = await runner.run('ss', ['-ltnp'], { timeoutMs: TOOL_TIMEOUT_MS, signal });
  if (!ss.notFound && ss.exitCode === 0) {
    return filter(parseSsListen(ss.stdout).map(({ address, port, pid }) => ({ address, port, pid })));
  }
  return undefined;
}

/** A process' argv: /proc/<pid>/cmdline, else `ps` (macOS). Undefined when the process is gone or hidden. */
export async function readCommandLine(
  pid: number,
  options: { runner: Runner; procRoot?: string; signal?: AbortSignal },
): Promise<string[] | undefined> {
  const argv = await readProcCmdline(pid, options.procRoot);
  if (argv) return argv;
  const ps = await options.runner.run('ps', ['-ww', '-o', 'args=', '-p', String(pid)], {
    timeoutMs: TOOL_TIMEOUT_MS,
    signal: options.signal,
  });
  const line = ps.exitCode === 0 ? ps.stdout.trim() : '';
  return line ? line.split(/\s+/) : undefined;
}
