/**
 * PM2 prefixes what an app writes with `<log_date_format>: `: in fork mode every line, in cluster mode the first
 * line of each write; its own crash handler in cluster mode writes the stack straight to the file, unstamped.
 * opsctl's ecosystem template has it write `YYYY-MM-DDTHH:mm:ss.SSSZ` (`2026-11-29T14:08:53.123+09:00`), so the
 * stamp says its zone; `time: true` (older opsctl, a user's own PM2 setup) writes `YYYY-MM-DDTHH:mm:ss`, without
 * one, in the zone of whichever process formatted it: read as this machine's local time (README, "The `logs` check").
 */
const STAMP_TIME = String.raw`(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?)(Z|[+-]\d{2}:?\d{2})?`;
const PM2_STAMP = new RegExp(`^${STAMP_TIME}: `);
/** `2026-11-29T14:08:53.123+09:00: PM2 log: App [backend:0] exited with code [1] via signal [SIGINT]` in `pm2.log`. */
const PM2_EXIT = new RegExp(
  String.raw`^${STAMP_TIME}: PM2 log: App \[(.+):(\d+)\] exited with code \[(\d+)\](?: via signal \[(\w+)\])?`,
);

/** The instant a stamp names: with its offset when it has one (`+0900` read as `+09:00`), else local time. */
function stampTime(time: string, zone: string | undefined): Date {
  return new Date(`${time}${zone ? zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2') : ''}`);
}

/** A log line without PM2's stamp, and the stamp's time. */
export interface LogLine {
  text: string;
  stamp?: Date;
}

/** Does this text hold a line PM2 stamped? */
export function hasStamp(text: string): boolean {
  return new RegExp(PM2_STAMP.source, 'm').test(text);
}

export function splitStamp(line: string): LogLine {
  const match = PM2_STAMP.exec(line);
  if (!match) return { text: line };
  return { text: line.slice(match[0].length), stamp: stampTime(match[1]!, match[2]) };
}

/** When PM2 saw each app exit with a non-zero code, from the daemon's `pm2.log`. */
export function readFailedExits(pm2Log: string): Map<string, Date[]> {
  const exits = new Map<string, Date[]>();
  for (const line of pm2Log.split('\n')) {
    const match = PM2_EXIT.exec(line);
    if (!match || match[5] === '0') continue;
    const list = exits.get(match[3]!) ?? [];
    list.push(stampTime(match[1]!, match[2]));
    exits.set(match[3]!, list);
  }
  return exits;
}

/**
 * How an instance last exited, from PM2's line. PM2 writes `code [0]` for a process a signal killed, and `signal
 * [SIGINT]` whenever there was none, so SIGINT says nothing and is left out; another signal is what ended it.
 */
export interface Pm2Exit {
  code: number;
  signal?: string;
}

/**
 * How a process ended, in words: the signal when one killed it (SIGKILL is what the kernel's out-of-memory killer
 * sends: README, "doctor", `processes`), else its exit code; '' when neither is known.
 */
export function describeExit(code: number | undefined, signal: string | undefined): string {
  if (signal) return `killed by ${signal}${signal === 'SIGKILL' ? ' (out of memory, or kill -9)' : ''}`;
  return code === undefined ? '' : `exited with code ${code}`;
}

/** The last exit PM2 logged for each instance, keyed `<app>:<pm_id>` (`backend:0`). */
export function readLastExits(pm2Log: string): Map<string, Pm2Exit> {
  const exits = new Map<string, Pm2Exit>();
  for (const line of pm2Log.split('\n')) {
    const match = PM2_EXIT.exec(line);
    if (!match) continue;
    const signal = match[6] && match[6] !== 'SIGINT' ? match[6] : undefined;
    exits.set(`${match[3]}:${match[4]}`, { code: Number(match[5]), ...(signal ? { signal } : {}) });
  }
  return exits;
}

/** The app a PM2 log file belongs to: `backend-error.log`, `backend-out-2.log` (per-instance logs). */
export function pm2AppOf(fileName: string): { app: string; stream: 'out' | 'error'; instance?: number } | undefined {
  const match = /^(.+)-(out|error)(?:-(\d+))?\.log$/.exec(fileName);
  if (!match) return undefined;
  return {
    app: match[1]!,
    stream: match[2] as 'out' | 'error',
    ...(match[3] ? { instance: Number(match[3]) } : {}),
  };
}
