import { statSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import { createPm2 } from '../pm2/cli.js';
import { isDaemonRunning, pm2Home } from '../pm2/home.js';
import type { Pm2Instance } from '../pm2/processes.js';
import type { Runner } from '../process/runner.js';
import { type AlertPayload, alertPayload } from './payload.js';
import { RestartFollower } from './restarts.js';
import { type AlertSink, deliver } from './sinks.js';
import { sleep } from './sleep.js';
import { type AlertPolicy, AlertState } from './state.js';
import type { RoundReport, RunRound } from './types.js';

/**
 * Between rounds, the PM2 daemon's log is looked at this often (a `stat`), and PM2's process list read (a `pm2
 * jlist`, a node process) only when the log changed: the daemon logs every exit and start of an instance.
 */
const FOLLOW_MS = 1_000;

export interface WatchOptions {
  config: ResolvedConfig;
  runner: Runner;
  /** One round of doctor's checks (`--only`, `--skip`, `--timeout` applied by the caller). */
  round: RunRound;
  intervalMs: number;
  policy: AlertPolicy;
  sinks: AlertSink[];
  /** Send one `started` event when the first round is green. */
  announce?: boolean;
  /** Aborted to stop: the loop returns, pending deliveries are given up. */
  signal: AbortSignal;
  /** Each event as sent (redacted). */
  onEvent: (payload: AlertPayload) => void;
  /** Each finished round. */
  onRound?: (reports: RoundReport[]) => void;
  /** The app's PM2 instances at each look (none when PM2 is not running). */
  onProcesses?: (instances: Pm2Instance[]) => void;
  /** Progress and delivery attempts, for stderr. */
  log: (line: string) => void;
  followMs?: number;
  /** Delivery retry tuning (tests). */
  delivery?: { attempts?: number; backoffMs?: number; timeoutMs?: number };
}

/**
 * `opsctl watch` (README, "`opsctl watch`"): doctor's checks every interval, PM2's instances in between, and an
 * alert to every sink on each change of state. Returns when `signal` aborts.
 */
export async function runWatch(opts: WatchOptions): Promise<void> {
  const { config, signal } = opts;
  const home = pm2Home(config.root, config.env);
  const pm2 = createPm2(opts.runner, home, config.root);
  const follower = new RestartFollower(
    home,
    config.packages.map((p) => p.name),
    opts.policy.repeatMs,
  );
  const state = new AlertState(opts.policy);
  const send = alertSender(opts);
  const followMs = Math.min(opts.followMs ?? FOLLOW_MS, opts.intervalMs);
  const daemonLog = join(home, 'pm2.log');
  let logStamp: string | undefined;
  /** Read PM2's list (always, or only when its daemon log changed) and report restarts. */
  const follow = async (always: boolean) => {
    const stamp = stampOf(daemonLog);
    if (signal.aborted || (!always && stamp === logStamp)) return;
    logStamp = stamp;
    try {
      const instances = isDaemonRunning(home) ? await pm2.jlist() : [];
      if (signal.aborted) return;
      opts.onProcesses?.(instances.filter((p) => config.packages.some((pkg) => pkg.name === p.name)));
      for (const event of await follower.look(instances, new Date())) send.event(event);
    } catch (err) {
      if (!signal.aborted) opts.log(`⚠ could not read PM2's processes: ${(err as Error).message}`);
    }
  };
  await follow(true); // the baseline: what runs now is not a restart
  for (let round = 0; !signal.aborted; round++) {
    const reports = await opts.round(signal);
    if (signal.aborted) break;
    opts.onRound?.(reports);
    const events = state.observe(reports, new Date());
    if (round === 0 && opts.announce && !state.hasFailing()) {
      send.event({
        event: 'started',
        check: 'watch',
        status: 'pass',
        message: `watching ${reports.length} checks every ${opts.intervalMs} ms`,
        at: new Date().toISOString(),
      });
    }
    for (const event of events) send.event(event);
    const next = Date.now() + opts.intervalMs;
    while (!signal.aborted && Date.now() < next) {
      await sleep(Math.min(followMs, next - Date.now()), signal);
      await follow(false);
    }
    await follow(true); // fresh memory and CPU for --metrics, once a round
  }
  await send.settled();
}

/** Sends each event to every sink in order, without holding up the rounds. */
export function alertSender(
  opts: Pick<WatchOptions, 'config' | 'runner' | 'sinks' | 'signal' | 'onEvent' | 'log' | 'delivery'>,
) {
  const app = basename(opts.config.root);
  const host = hostname();
  const queues = opts.sinks.map(() => Promise.resolve());
  return {
    event(event: Parameters<typeof alertPayload>[0]) {
      const payload = alertPayload(event, app, host);
      opts.onEvent(payload);
      opts.sinks.forEach((sink, i) => {
        queues[i] = queues[i]!.then(async () => {
          const ok = await deliver(sink, payload, {
            runner: opts.runner,
            log: opts.log,
            signal: opts.signal,
            ...opts.delivery,
          });
          if (!ok && !opts.signal.aborted) opts.log(`✖ ${payload.event} ${payload.check} could not be delivered`);
        });
      });
    },
    settled: () => Promise.all(queues).then(() => undefined),
  };
}

/** Size and time of a file, to tell that it changed without reading it; empty when it does not exist. */
function stampOf(file: string): string {
  try {
    const s = statSync(file);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return '';
  }
}
