import { request } from 'node:http';
import { connect } from 'node:net';

const POLL_MS = 100;
const FATAL_POLL_MS = 250; // between PM2 process-list checks (each one spawns the pm2 CLI)
const FATAL_SETTLE_TRIES = 4; // ~1 s for PM2 to see a process that died under a probe
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
  /** A cheap fatal check (a log read) run before every probe, so a crash it sees ends the wait within one poll. */
  quick?: () => string | undefined;
  /** Consecutive healthy probes required (a process that answers once and then crashes is not healthy). */
  stableProbes?: number;
}

/**
 * Wait until the target is healthy. Resolves undefined when it is, or the last problem when time ran out.
 * The `fatal` check (slow: a PM2 process list) runs in a loop of its own beside the fast probes, so a crash still
 * ends the wait at once while a healthy target is not held up by it; healthy needs one clean fatal check too.
 */
export async function waitHealthy(target: HealthTarget, options: GateOptions): Promise<string | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  const needed = options.stableProbes ?? 2;
  const watch = { done: false, checked: !options.fatal, problem: undefined as string | undefined };
  void watchFatal(options, watch);
  try {
    let good = 0;
    let problem: string | undefined = 'not checked yet';
    while (!options.signal?.aborted) {
      const quick = watch.problem ?? options.quick?.();
      if (quick) return quick;
      problem = await probeHealth(target);
      good = problem ? 0 : good + 1;
      if (good >= needed && watch.checked) return watch.problem;
      if (Date.now() >= deadline) return `${problem ?? 'not stable'} after ${options.timeoutMs} ms`;
      await sleep(POLL_MS);
    }
    return 'interrupted';
  } finally {
    watch.done = true;
  }
}

/** A path a release must answer with `status` (absent: any 2xx); the config's `smoke` (README, "Deploy"). */
export interface SmokeCheck {
  path: string;
  status?: number;
}

/** Each smoke path once, in order: undefined when all answer as expected, else the first that did not. */
export async function probeSmoke(target: HealthTarget, checks: SmokeCheck[]): Promise<string | undefined> {
  if (target.port === undefined) return undefined;
  for (const check of checks) {
    const status = await httpStatus(target.host ?? '127.0.0.1', target.port, check.path);
    const ok = check.status === undefined ? status >= 200 && status < 300 : status === check.status;
    if (ok) continue;
    const wanted = check.status === undefined ? '2xx' : String(check.status);
    return status
      ? `smoke GET ${check.path} answered ${status} (expected ${wanted})`
      : `smoke GET ${check.path} did not answer (expected ${wanted})`;
  }
  return undefined;
}

export interface WatchOptions {
  durationMs: number;
  signal?: AbortSignal;
  fatal?: () => Promise<string | undefined>;
  quick?: () => string | undefined;
}

/**
 * Keep probing a healthy target for `durationMs` (and the `fatal` check beside it): undefined when it stayed
 * healthy all along, else the first problem, at once. A release that crashes seconds after listening fails here.
 */
export async function staysHealthy(target: HealthTarget, options: WatchOptions): Promise<string | undefined> {
  const deadline = Date.now() + options.durationMs;
  const watch = { done: false, checked: !options.fatal, problem: undefined as string | undefined };
  void watchFatal(options, watch);
  try {
    while (!options.signal?.aborted) {
      const quick = watch.problem ?? options.quick?.();
      if (quick) return quick;
      const problem = await probeHealth(target);
      if (problem) return (await fatalSettled(options)) ?? `${problem} after it was healthy`;
      if (Date.now() >= deadline && watch.checked) return watch.problem;
      await sleep(POLL_MS);
    }
    return 'interrupted';
  } finally {
    watch.done = true;
  }
}

/**
 * A probe failed after the target was healthy: the process may have just died (a request cut by the crash), and
 * PM2 takes a moment to see it. Ask the fatal check a few times, so the failure names the crash rather than its
 * symptom on the wire.
 */
async function fatalSettled(options: Pick<WatchOptions, 'fatal' | 'quick'>): Promise<string | undefined> {
  for (let attempt = 0; options.fatal && attempt < FATAL_SETTLE_TRIES; attempt++) {
    if (attempt > 0) await sleep(FATAL_POLL_MS);
    const problem = options.quick?.() ?? (await options.fatal().catch(() => undefined));
    if (problem) return problem;
  }
  return undefined;
}

async function watchFatal(
  options: Pick<GateOptions, 'fatal' | 'signal'>,
  watch: { done: boolean; checked: boolean; problem: string | undefined },
): Promise<void> {
  while (options.fatal && !watch.done && !options.signal?.aborted) {
    try {
      watch.problem = await options.fatal();
    } catch (error) {
      watch.problem = error instanceof Error ? error.message : String(error);
    }
    watch.checked = true;
    if (watch.problem) return;
    await sleep(FATAL_POLL_MS);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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
