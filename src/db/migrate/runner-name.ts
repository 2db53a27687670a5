import { hostname } from 'node:os';

/** `application_name` prefix of opsctl's migration sessions: how a lock holder is recognised in pg_stat_activity. */
export const APPLICATION_NAME = 'opsctl migrate';
/** PostgreSQL keeps at most NAMEDATALEN - 1 bytes of an application_name. */
const MAX_NAME_BYTES = 63;
const RUNNER = /^opsctl migrate \(pid (\d+) on (.*?)\)?$/;

/**
 * The application_name of a migration session: `opsctl migrate (pid 4242 on build-7)`. The runner's pid and host
 * are what `migrate unlock` needs to tell a lock whose holder is gone from one whose holder still runs (README,
 * "`migrate unlock`"); PostgreSQL records neither (client_port is a socket, not a process).
 */
export function runnerApplicationName(pid = process.pid, host = hostname()): string {
  return truncateBytes(`${APPLICATION_NAME} (pid ${pid} on ${host})`, MAX_NAME_BYTES);
}

/** The runner a session's application_name names, or undefined when it is no opsctl migration session. */
export function parseRunnerName(applicationName: string | null): { pid: number; host: string } | undefined {
  const match = RUNNER.exec(applicationName ?? '');
  if (!match) return undefined;
  return { pid: Number(match[1]), host: match[2]! };
}

/** True when `applicationName` is what a runner with `pid` on this host would have set (even truncated). */
export function isRunnerOnThisHost(applicationName: string | null, host = hostname()): boolean {
  const runner = parseRunnerName(applicationName);
  return Boolean(runner && applicationName === runnerApplicationName(runner.pid, host));
}

function truncateBytes(text: string, max: number): string {
  let out = text;
  while (Buffer.byteLength(out) > max) out = out.slice(0, -1);
  return out;
}
