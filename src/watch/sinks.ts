import type { Runner } from '../process/runner.js';
import type { AlertPayload } from './payload.js';
import { sleep } from './sleep.js';

/** One place alerts go: a webhook URL or a command (README, "`opsctl watch`"). */
export type AlertSink = { webhook: string } | { command: string[] };

export interface DeliveryOptions {
  runner: Runner;
  /** Every attempt, for the log (stderr): `webhook https://hooks.slack.com/… attempt 1: HTTP 500`. */
  log: (line: string) => void;
  /** Aborted when watch stops: pending retries are given up. */
  signal: AbortSignal;
  /** Attempts per alert and the first wait between them (doubling, capped at 30 s). */
  attempts?: number;
  backoffMs?: number;
  /** How long a webhook may take to answer before the attempt counts as failed. */
  timeoutMs?: number;
}

const ATTEMPTS = 6; // with the doubling wait: about a minute of retries
const BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
const WEBHOOK_TIMEOUT_MS = 10_000; // a receiver that does not answer in this time is retried
const COMMAND_TIMEOUT_MS = 30_000;
/** A command still running when watch stops is killed this soon: watch ends within a second (README). */
const COMMAND_KILL_GRACE_MS = 200;

/** How the log names a sink: a webhook by its origin only (a Slack webhook's path is its secret). */
export function sinkLabel(sink: AlertSink): string {
  if ('command' in sink) return `command ${sink.command[0]}`;
  try {
    return `webhook ${new URL(sink.webhook).origin}`;
  } catch {
    return 'webhook';
  }
}

/**
 * Deliver one payload, retrying with backoff: a 5xx, a time-out or a failing command is tried again; a 4xx is the
 * receiver refusing the alert, not a passing failure, and is not. Never throws: returns whether it arrived.
 */
export async function deliver(sink: AlertSink, payload: AlertPayload, opts: DeliveryOptions): Promise<boolean> {
  const attempts = opts.attempts ?? ATTEMPTS;
  let wait = opts.backoffMs ?? BACKOFF_MS;
  for (let attempt = 1; attempt <= attempts && !opts.signal.aborted; attempt++) {
    const { ok, retry, detail } = await attemptOnce(sink, payload, opts);
    opts.log(`${sinkLabel(sink)}: ${payload.event} ${payload.check}, attempt ${attempt}: ${detail}`);
    if (ok) return true;
    if (!retry || attempt === attempts) break;
    if (!(await sleep(wait, opts.signal))) break;
    wait = Math.min(wait * 2, MAX_BACKOFF_MS);
  }
  return false;
}

interface Attempt {
  ok: boolean;
  retry: boolean;
  detail: string;
}

async function attemptOnce(sink: AlertSink, payload: AlertPayload, opts: DeliveryOptions): Promise<Attempt> {
  const body = JSON.stringify(payload);
  if ('command' in sink) {
    const [command, ...args] = sink.command;
    const res = await opts.runner.run(command!, args, {
      input: body,
      timeoutMs: COMMAND_TIMEOUT_MS,
      signal: opts.signal,
      killGraceMs: COMMAND_KILL_GRACE_MS,
    });
    if (res.notFound) return { ok: false, retry: false, detail: `cannot run ${command} (not found)` };
    if (res.exitCode === 0) return { ok: true, retry: false, detail: 'delivered' };
    const tail = res.stderr.trim().split('\n').pop();
    return {
      ok: false,
      retry: true,
      detail: res.timedOut ? 'timed out' : `exit code ${res.exitCode}${tail ? `: ${tail}` : ''}`,
    };
  }
  try {
    const res = await post(sink.webhook, body, opts);
    if (res.ok) return { ok: true, retry: false, detail: `delivered (HTTP ${res.status})` };
    if (res.status >= 300 && res.status < 400) {
      // fetch would turn the POST into an empty GET on a 301/302/303: the alert would be lost as "delivered"
      return { ok: false, retry: false, detail: `HTTP ${res.status} (a redirect: use the URL it points to)` };
    }
    return { ok: false, retry: res.status >= 500 || res.status === 429, detail: `HTTP ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const name = (err as Error).name;
    const detail = name === 'TimeoutError' ? 'no answer in time' : (cause ?? (err as Error).message);
    return { ok: false, retry: true, detail };
  }
}

const MAX_REDIRECTS = 5;

/**
 * POST the alert, following 307 and 308 only (they keep the method and the body); any other redirect is answered
 * as it is. The response body is discarded.
 */
async function post(url: string, body: string, opts: DeliveryOptions): Promise<Response> {
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS)]);
  let target = url;
  for (let hop = 0; ; hop++) {
    const res = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      redirect: 'manual',
      signal,
    });
    await res.body?.cancel();
    const location = res.headers.get('location');
    if ((res.status !== 307 && res.status !== 308) || !location || hop >= MAX_REDIRECTS) return res;
    target = new URL(location, target).href;
  }
}
