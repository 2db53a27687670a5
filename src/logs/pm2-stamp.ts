/**
 * PM2 with `time: true` (opsctl's ecosystem template) prefixes what an app writes with `YYYY-MM-DDTHH:mm:ss: `,
 * in the machine's local time: in fork mode every line, in cluster mode the first line of each write. Its own
 * crash handler in cluster mode writes the stack straight to the file, unstamped.
 */
const PM2_STAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}): /;
/** `2026-11-29T14:08:53: PM2 log: App [backend:0] exited with code [1] via signal [SIGINT]` in `pm2.log`. */
const PM2_EXIT = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}): PM2 log: App \[(.+):\d+\] exited with code \[(\d+)\]/;

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
  return { text: line.slice(match[0].length), stamp: new Date(match[1]!) };
}

/** When PM2 saw each app exit with a non-zero code, from the daemon's `pm2.log`. */
export function readFailedExits(pm2Log: string): Map<string, Date[]> {
  const exits = new Map<string, Date[]>();
  for (const line of pm2Log.split('\n')) {
    const match = PM2_EXIT.exec(line);
    if (!match || match[3] === '0') continue;
    const list = exits.get(match[2]!) ?? [];
    list.push(new Date(match[1]!));
    exits.set(match[2]!, list);
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
