import { setMaxListeners } from 'node:events';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../../src/checks/ids.js';
import { doctorChecks, selectChecks } from '../../src/checks/index.js';
import { runCheck } from '../../src/checks/run-check.js';
import { ExitCode, isOpsError, usageError } from '../../src/errors.js';
import { parseInterval } from '../../src/logs/duration.js';
import { addSecret } from '../../src/output/redact.js';
import type { RedisCacheInfo } from '../../src/redis/cache-info.js';
import type { AlertPayload } from '../../src/watch/payload.js';
import type { AlertSink } from '../../src/watch/sinks.js';
import { checkJson, printReports } from '../shared/check-report.js';
import { type Cli, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out } from '../shared/output.js';

export interface WatchFlags extends GlobalOptions {
  interval?: number;
  after?: number;
  repeat?: number;
  timeout?: number;
  only?: string[];
  skip?: string[];
  webhook?: string[];
  announce?: boolean;
  once?: boolean;
  daemon?: boolean;
  metrics?: number;
}

const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_REPEAT_MS = 60 * 60_000;
/** SIGINT/SIGTERM end watch within a second (README, "`opsctl watch`"): what is still running is cut short. */
const STOP_GRACE_MS = 900;

/** `opsctl watch` (README, "`opsctl watch`"). */
export function watch(cmd: Invocation<WatchFlags>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const o = cli.opts;
    const checks = selectChecks(doctorChecks(config), o.only, [...(config.doctor.skip ?? []), ...(o.skip ?? [])]);
    const intervalMs = o.interval ?? configDuration(config.watch.interval, 'watch.interval') ?? DEFAULT_INTERVAL_MS;
    const repeatMs = o.repeat ?? configDuration(config.watch.repeat, 'watch.repeat') ?? DEFAULT_REPEAT_MS;
    const sinks: AlertSink[] = [...config.alerts, ...(o.webhook ?? []).map((webhook) => ({ webhook }))];
    // a chat webhook's URL is its credential (Slack's path): never printed whole (README, "`opsctl watch`")
    for (const sink of sinks) if ('webhook' in sink) addSecret(sink.webhook);
    for (const sink of sinks) if ('webhook' in sink) verifyWebhook(sink.webhook);
    if (o.daemon) {
      if (o.once)
        throw usageError('--daemon and --once cannot be used together.', 'Use --once from cron, or --daemon.');
      return (await import('./daemon.js')).startDaemon(cli, config);
    }
    if (o.once && o.metrics !== undefined) {
      throw usageError('--metrics and --once cannot be used together.', 'Metrics are served while watch runs.');
    }
    const signal = cli.deferSignals(STOP_GRACE_MS);
    // each check of a round listens to it at once, and so do the sinks' deliveries: more than Node's 10 is
    // expected here, not the leak its warning on stderr would tell the operator about
    setMaxListeners(checks.length + sinks.length + 10, signal);
    const ctx = {
      config,
      runner: cli.runner,
      timeoutMs: o.timeout ?? config.doctor.timeout ?? DEFAULT_CHECK_TIMEOUT_MS,
      now: () => new Date(),
      // a crash PM2 recovered from is a `restart` event; the check still fails on errored and crash-looping ones
      recentCrashMs: 0,
      // the redis check's counters from one round to the next: evictions and the hit rate over the interval
      memo: new Map<string, unknown>(),
    };
    const common = {
      config,
      runner: cli.runner,
      // doctor's checks with doctor's runner: --only, --skip and --timeout mean the same (README, "`opsctl watch`")
      round: (stop: AbortSignal) => Promise.all(checks.map((check) => runCheck(check, ctx, stop))),
      sinks,
      signal,
      log: (line: string) => err(line),
    };
    if (o.once) {
      const { watchOnce } = await import('../../src/watch/once.js');
      const { reports, events } = await watchOnce({ ...common, onEvent: () => undefined });
      if (signal.aborted) return stopped(signal);
      const exitCode = reports.some((r) => r.status === 'fail') ? ExitCode.findings : ExitCode.ok;
      if (cli.json) return cli.finish(exitCode, { checks: reports.map(checkJson), events });
      printReports(reports);
      for (const e of events) err(`alert: ${e.text}`);
      return exitCode;
    }
    const { runWatch } = await import('../../src/watch/run-watch.js');
    const metrics =
      o.metrics === undefined ? undefined : await (await import('../../src/watch/metrics.js')).serveMetrics(o.metrics);
    if (!cli.json) err(`Watching ${checks.length} checks every ${intervalMs} ms; ${sinks.length} alert sink(s).`);
    if (metrics) err(`Prometheus metrics on ${metrics.url}`);
    try {
      await runWatch({
        ...common,
        intervalMs,
        policy: { after: o.after ?? config.watch.after ?? 1, repeatMs },
        announce: o.announce,
        onEvent: (payload) => printEvent(cli, payload),
        onRound: (reports) => {
          metrics?.observeRound(reports);
          for (const [key, info] of ctx.memo) {
            if (key.startsWith('redis:')) metrics?.observeRedis(key.slice('redis:'.length), info as RedisCacheInfo);
          }
        },
        onProcesses: (instances) => metrics?.observeProcesses(instances),
      });
    } finally {
      await metrics?.close();
    }
    return stopped(signal);
  });
}

/** Without --json, an event is its one human line; with it, one JSON line (README, "`opsctl watch`"). */
function printEvent(cli: Cli<WatchFlags>, payload: AlertPayload): void {
  out(cli.json ? JSON.stringify(payload) : payload.text);
}

/**
 * A signal is how watch is meant to end: a line on stderr and the signal's exit code (130, 143), but no JSON
 * document after the event lines.
 */
function stopped(signal: AbortSignal): number {
  const reason: unknown = signal.reason;
  err(`watch stopped${isOpsError(reason) ? ` (${reason.message})` : ''}`);
  return isOpsError(reason) ? reason.exitCode : ExitCode.interrupted;
}

function configDuration(value: string | number | undefined, key: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseInterval(value);
  if (ms === undefined) throw usageError(`${key}: "${value}" is not a duration.`, 'Use 500ms, 30s, 5m or 1h.');
  return ms;
}

/** A URL fetch cannot POST to is a usage error at start, not an alert lost after a minute of retries. */
function verifyWebhook(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError('A webhook in `alerts` is not a URL.', 'Use an http:// or https:// URL.');
  }
  if (parsed.username || parsed.password) {
    throw usageError(
      `The webhook URL for ${parsed.origin} has a user and password in it, which cannot be sent that way.`,
      'Use the URL your chat or pager service gives for incoming webhooks (its token is in the path), or a command sink.',
    );
  }
}
