import { request } from 'node:http';
import { connect } from 'node:net';

const POLL_MS = 250;
const PROBE_TIMEOUT_MS = 2_000; // one probe; the gate as a whole is bounded by --health-timeout

export interface HealthTarget {
  port?: number;
  /** An HTTP path, or `tcp` for a port check only. */
  health?: string;
  host?: string;
}

/** One probe: undefined when healthy, else what is wrong. */
export async function probeHealth(target: HealthTarget): Promise<string | undefined> {
  if (target.port === undefined) return undefined;
  const host = target.host ?? '127.0.0.1';
  if (!(await isListening(host, target.port))) return `nothing listens on port ${target.port}`;
  if (!target.health || target.health === 'tcp') return undefined;
  const status = await httpStatus(host, target.port, target.health);
  if (status >= 200 && status < 300) return undefined;
  return status ? `GET ${target.health} answered ${status}` : `GET ${target.health} did not answer`;
}

export interface GateOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** A fatal problem seen outside the probe (crashed or errored instances): stop waiting at once. */
  fatal?: () => Promise<string | undefined>;
  /** Consecutive healthy probes required (a process that answers once and then crashes is not healthy). */
  stableProbes?: number;
}

/** Wait until the target is healthy. Resolves undefined when it is, or the last problem when time ran out. */
export async function waitHealthy(target: HealthTarget, options: GateOptions): Promise<string | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  const needed = options.stableProbes ?? 2;
  let good = 0;
  let problem: string | undefined = 'not checked yet';
  while (!options.signal?.aborted) {
    const fatal = await options.fatal?.();
    if (fatal) return fatal;
    problem = await probeHealth(target);
    good = problem ? 0 : good + 1;
    if (good >= needed) return undefined;
    if (Date.now() >= deadline) return `${problem ?? 'not stable'} after ${options.timeoutMs} ms`;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return 'interrupted';
}

function isListening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function httpStatus(host: string, port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', timeout: PROBE_TIMEOUT_MS, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}
