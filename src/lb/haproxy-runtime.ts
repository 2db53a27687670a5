import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { configError, ExitCode, errorMessage, OpsError } from '../errors.js';
import { parseServersState, parseStatJson, type ServerStateRow } from './haproxy-parse.js';
import { type HaproxySocket, parseHaproxySocket, sendHaproxyCommand } from './haproxy-socket.js';

/** How long a drained server may keep sessions open before it goes to maintenance anyway. */
export const HAPROXY_DRAIN_TIMEOUT_MS = 30_000;
/** How long a server put back may take to pass HAProxy's health check (its `rise` checks, `inter` apart). */
export const HAPROXY_READY_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

/** A server of a backend as HAProxy sees it now: its `show servers state` row and its `show stat` figures. */
export interface HaproxyServer extends ServerStateRow {
  /** `show stat` status: UP, DOWN, MAINT, DRAIN, NOLB, "DOWN 1/2" (going up)... */
  status: string;
  /** Sessions open on it now (`scur`). */
  sessions: number;
  /** The last health check's result in words, when it is checked. */
  check?: string;
}

export interface RuntimeOptions {
  /** Time limit for each runtime API answer (default HAPROXY_ANSWER_TIMEOUT_MS). */
  answerTimeoutMs?: number;
  /** How often to poll while waiting (default 100 ms). */
  pollMs?: number;
}

/** What draining a server came to: `drained` false when sessions were still open at the time limit. */
export interface DrainResult {
  backend: string;
  server: string;
  drained: boolean;
  /** Sessions still open when it went to maintenance (0 when drained). */
  sessions: number;
}

type SocketRef = HaproxySocket | string;
const socketOf = (socket: SocketRef) => (typeof socket === 'string' ? parseHaproxySocket(socket) : socket);

/**
 * The servers of `backend`: `show servers state <backend>` (name, address, port, operational and admin state) joined
 * with `show stat` (status, current sessions). An unknown backend is a config error (exit 2) naming the known ones.
 */
export async function readServers(
  socketRef: SocketRef,
  backend: string,
  options: RuntimeOptions = {},
): Promise<HaproxyServer[]> {
  const socket = socketOf(socketRef);
  const rows = await readStateRows(socket, backend, options);
  const stats = rows[0] ? await readStats(socket, rows[0].backendId, backend, options) : [];
  return rows.map((row) => {
    const stat = stats.find((s) => s.name === row.name);
    return {
      ...row,
      status: stat?.status ?? 'unknown',
      sessions: stat?.sessions ?? 0,
      ...(stat?.check ? { check: stat.check } : {}),
    };
  });
}

async function readStateRows(socket: HaproxySocket, backend: string, options: RuntimeOptions) {
  verifyName(backend, 'backend');
  const text = await sendHaproxyCommand(socket, `show servers state ${backend}`, options.answerTimeoutMs);
  if (/^Can't find backend/m.test(text)) throw await unknownBackend(socket, backend, options);
  return parse(socket, 'show servers state', () => parseServersState(text));
}

async function readStats(socket: HaproxySocket, backendId: number, backend: string, options: RuntimeOptions) {
  // by the backend's id, not its name: `show stat <name>` picks a frontend of the same name (`frontend api` +
  // `backend api` is common). Type 4: servers only; -1: all of them; in the JSON form.
  const text = await sendHaproxyCommand(socket, `show stat ${backendId} 4 -1 json`, options.answerTimeoutMs);
  return parse(socket, 'show stat', () => parseStatJson(text)).filter((s) => s.backend === backend);
}

/**
 * Names go into a command line where `;` separates commands and a space separates words: only HAProxy's own name
 * characters are sent (a config error otherwise).
 */
function verifyName(name: string, what: 'backend' | 'server'): void {
  if (!/^[A-Za-z0-9_.:-]+$/.test(name)) {
    throw configError(
      `"${name}" is not a HAProxy ${what} name.`,
      'HAProxy names use letters, digits, "-", "_", "." and ":".',
    );
  }
}

function parse<T>(socket: HaproxySocket, command: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new OpsError(
      'HAPROXY_ANSWER',
      `HAProxy's admin socket ${socket.text} answered \`${command}\` in a form opsctl cannot read: ${errorMessage(err)}.`,
      {
        hint: 'opsctl reads HAProxy 2.x runtime API answers; check `haproxy -v` on the load balancer.',
        exitCode: ExitCode.unreachable,
        cause: err,
      },
    );
  }
}

async function unknownBackend(socket: HaproxySocket, backend: string, options: RuntimeOptions): Promise<OpsError> {
  const names = (await sendHaproxyCommand(socket, 'show backend', options.answerTimeoutMs))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  return configError(
    `HAProxy at ${socket.text} has no backend "${backend}" (it has: ${names.join(', ') || 'none'}).`,
    'Fix loadBalancer.haproxy.backend in the config.',
  );
}

/**
 * The servers whose address is `host` (an IP or a name: a name matches the server's own name in its `server` line,
 * or any address it resolves to), so an existing HAProxy config works as it is.
 */
export async function findServersByAddress(servers: HaproxyServer[], host: string): Promise<HaproxyServer[]> {
  const direct = servers.filter((s) => s.address === host || s.fqdn === host);
  if (direct.length > 0 || isIP(host)) return direct;
  const addresses = await lookup(host, { all: true }).then(
    (found) => found.map((a) => a.address),
    () => [] as string[],
  );
  return servers.filter((s) => addresses.includes(s.address));
}

/** `set server <backend>/<server> state <state>`: HAProxy answers nothing when it did it, else says why not. */
export async function setServerState(
  socketRef: SocketRef,
  backend: string,
  server: string,
  state: 'ready' | 'drain' | 'maint',
  options: RuntimeOptions = {},
): Promise<void> {
  const socket = socketOf(socketRef);
  verifyName(backend, 'backend');
  verifyName(server, 'server');
  const answer = (
    await sendHaproxyCommand(socket, `set server ${backend}/${server} state ${state}`, options.answerTimeoutMs)
  ).trim();
  if (answer) {
    throw new OpsError(
      'HAPROXY_SET_STATE',
      `HAProxy at ${socket.text} would not set ${backend}/${server} to ${state}: ${answer}`,
      {
        hint: `Check the server with \`echo "show servers state ${backend}" | socat stdio ${socket.text}\`.`,
        exitCode: ExitCode.failed,
      },
    );
  }
}

/**
 * Take a server out of rotation gently: `drain` (no new sessions), wait until its current sessions are 0 or
 * `timeoutMs` passed, then `maint` (health checks stop; a reload of the app behind it is not seen as a failure).
 * A time limit reached is not an error: the result says how many sessions were still open.
 */
export async function drainServer(
  socketRef: SocketRef,
  backend: string,
  server: string,
  options: RuntimeOptions & { timeoutMs?: number } = {},
): Promise<DrainResult> {
  const socket = socketOf(socketRef);
  const deadline = Date.now() + (options.timeoutMs ?? HAPROXY_DRAIN_TIMEOUT_MS);
  const poll = await serverStatPoll(socket, backend, server, options);
  await setServerState(socket, backend, server, 'drain', options);
  let sessions = (await poll()).sessions;
  while (sessions > 0 && Date.now() < deadline) {
    await sleep(options.pollMs ?? POLL_MS);
    sessions = (await poll()).sessions;
  }
  await setServerState(socket, backend, server, 'maint', options);
  return { backend, server, drained: sessions === 0, sessions };
}

/**
 * A poll of one server's `show stat` figures: its backend and server ids are read once (`show servers state`), then
 * each poll asks for that one server (`show stat <iid> 4 <sid>`), found again by name if HAProxy was reloaded.
 */
async function serverStatPoll(socket: HaproxySocket, backend: string, server: string, options: RuntimeOptions) {
  verifyName(server, 'server');
  const idsOf = async () => (await readStateRows(socket, backend, options)).find((row) => row.name === server);
  let ids = await idsOf();
  const once = async () => {
    if (!ids) return undefined;
    const text = await sendHaproxyCommand(
      socket,
      `show stat ${ids.backendId} 4 ${ids.serverId} json`,
      options.answerTimeoutMs,
    );
    return parse(socket, 'show stat', () => parseStatJson(text)).find(
      (s) => s.backend === backend && s.name === server,
    );
  };
  return async () => {
    let stat = await once();
    if (!stat) {
      ids = await idsOf();
      stat = await once();
    }
    if (!stat) {
      throw new OpsError('HAPROXY_NO_SERVER', `HAProxy at ${socket.text} has no server ${backend}/${server}.`, {
        hint: `List its servers with \`echo "show servers state ${backend}" | socat stdio ${socket.text}\`.`,
        exitCode: ExitCode.failed,
      });
    }
    return stat;
  };
}

/**
 * Put a server back: `ready`, then wait until HAProxy reports it UP (its health check passed; a server without
 * `check` counts as up once ready). Not UP within `timeoutMs`: OpsError exit 3 naming the server and its state.
 */
export async function readyServer(
  socketRef: SocketRef,
  backend: string,
  server: string,
  options: RuntimeOptions & { timeoutMs?: number } = {},
): Promise<void> {
  const socket = socketOf(socketRef);
  const timeoutMs = options.timeoutMs ?? HAPROXY_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const poll = await serverStatPoll(socket, backend, server, options);
  await setServerState(socket, backend, server, 'ready', options);
  let stat = await poll();
  while (!isUp(stat.status)) {
    if (Date.now() >= deadline) {
      const check = stat.check ? ` (last check: ${stat.check})` : '';
      throw new OpsError(
        'HAPROXY_NOT_UP',
        `HAProxy server ${backend}/${server} is not UP after ${timeoutMs} ms: ${stat.status}${check}.`,
        {
          hint: "Check that the app answers the backend's health check on that host (`opsctl status --target`, its logs).",
          exitCode: ExitCode.failed,
        },
      );
    }
    await sleep(options.pollMs ?? POLL_MS);
    stat = await poll();
  }
}

function isUp(status: string): boolean {
  return status === 'UP' || status === 'no check';
}
