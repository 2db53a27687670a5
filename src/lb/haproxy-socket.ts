import { createConnection, type NetConnectOpts } from 'node:net';
import { userInfo } from 'node:os';
import { configError, ExitCode, OpsError } from '../errors.js';

/** How long HAProxy may take to answer one runtime API command (it answers in microseconds when it is alive). */
export const HAPROXY_ANSWER_TIMEOUT_MS = 5_000;

/** Where HAProxy's admin socket is: a unix socket path, or a TCP stats socket. */
export type HaproxySocket =
  | { kind: 'unix'; path: string; text: string }
  | { kind: 'tcp'; host: string; port: number; text: string };

const SETUP_HINT = (text: string) =>
  `HAProxy's global section needs \`stats socket ${text} mode 600 level admin\` (reload HAProxy after adding it); ` +
  'or fix loadBalancer.haproxy.socket in the config.';

/**
 * The socket as the config writes it: `/run/haproxy/admin.sock` (also `unix@/path`), `tcp://host:port`,
 * `ipv4@host:port`, `ipv6@[::1]:port` or `host:port` (HAProxy's own address syntax). Anything else is a config error (exit 2).
 */
export function parseHaproxySocket(text: string): HaproxySocket {
  const value = text.trim();
  if (value.startsWith('unix@')) return { kind: 'unix', path: value.slice('unix@'.length), text: value };
  // a bare host:port (HAProxy's own bind syntax) is TCP too; a unix socket path has no `:port` ending
  const tcp = /^(?:tcp:\/\/|ipv4@|ipv6@)(.+)$/.exec(value)?.[1] ?? /^[^/@]+:\d+$/.exec(value)?.[0];
  if (tcp === undefined) {
    if (value && !value.includes('://') && !/^[a-z0-9]+@/i.test(value))
      return { kind: 'unix', path: value, text: value };
    throw badSocket(value);
  }
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})\/?$/.exec(tcp);
  const port = Number(match?.[2]);
  if (!match?.[1] || !(port > 0 && port < 65536)) throw badSocket(value);
  return { kind: 'tcp', host: match[1], port, text: value };
}

function badSocket(value: string): OpsError {
  return configError(
    `loadBalancer.haproxy.socket "${value}" is not a HAProxy admin socket address.`,
    'Use a unix socket path (/run/haproxy/admin.sock), tcp://host:port or ipv4@host:port.',
  );
}

/**
 * Send one runtime API command on its own short connection (HAProxy's non-interactive mode: it answers and closes)
 * and return the answer. Unreachable, refused, unanswered (after `timeoutMs`) and "Permission denied" all throw an
 * OpsError with exit 4 naming the socket and how to fix it.
 */
export function sendHaproxyCommand(
  socket: HaproxySocket,
  command: string,
  timeoutMs = HAPROXY_ANSWER_TIMEOUT_MS,
): Promise<string> {
  const target: NetConnectOpts =
    socket.kind === 'unix' ? { path: socket.path } : { host: socket.host, port: socket.port };
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const conn = createConnection(target);
    const timer = setTimeout(() => {
      conn.destroy();
      reject(
        new OpsError(
          'HAPROXY_TIMEOUT',
          `HAProxy's admin socket ${socket.text} did not answer \`${command}\` within ${timeoutMs} ms.`,
          {
            hint: 'Is HAProxy alive and is this its stats socket? Try `echo "show info" | socat stdio <socket>`.',
            exitCode: ExitCode.unreachable,
          },
        ),
      );
    }, timeoutMs);
    conn.on('connect', () => conn.write(`${command}\n`));
    conn.on('data', (chunk: Buffer) => chunks.push(chunk));
    conn.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      conn.destroy();
      reject(connectError(socket, err));
    });
    conn.on('end', () => {
      clearTimeout(timer);
      conn.destroy();
      const answer = Buffer.concat(chunks).toString('utf8');
      if (/^Permission denied/m.test(answer)) reject(notAdmin(socket, command));
      else resolve(answer);
    });
  });
}

function connectError(socket: HaproxySocket, err: NodeJS.ErrnoException): OpsError {
  const options = { exitCode: ExitCode.unreachable, cause: err } as const;
  switch (err.code) {
    case 'ENOENT':
      return new OpsError('HAPROXY_NO_SOCKET', `No HAProxy admin socket at ${socket.text}.`, {
        ...options,
        hint: SETUP_HINT(socket.text),
      });
    case 'EACCES':
    case 'EPERM':
      return new OpsError(
        'HAPROXY_SOCKET_ACCESS',
        `${userInfo().username} may not open HAProxy's admin socket ${socket.text}.`,
        {
          ...options,
          hint: `Give this user access (\`stats socket ${socket.text} mode 660 group <its group> level admin\`) or run opsctl as HAProxy's admin user.`,
        },
      );
    case 'ECONNREFUSED':
      return new OpsError(
        'HAPROXY_REFUSED',
        `Nothing answers on HAProxy's admin socket ${socket.text} (connection refused).`,
        {
          ...options,
          hint: `Is HAProxy running? ${SETUP_HINT(socket.text)}`,
        },
      );
    default:
      return new OpsError('HAPROXY_UNREACHABLE', `HAProxy's admin socket ${socket.text} failed: ${err.message}.`, {
        ...options,
        hint: SETUP_HINT(socket.text),
      });
  }
}

function notAdmin(socket: HaproxySocket, command: string): OpsError {
  return new OpsError(
    'HAPROXY_NOT_ADMIN',
    `HAProxy refused \`${command}\` on ${socket.text}: the socket is not at level admin.`,
    {
      hint: `Declare it \`stats socket ${socket.text} mode 600 level admin\` in HAProxy's global section and reload HAProxy.`,
      exitCode: ExitCode.unreachable,
    },
  );
}

/** `show cli level` on the socket: throws (exit 4) unless it is `admin`, the level that may change server states. */
export async function verifyHaproxyAdmin(socket: HaproxySocket, timeoutMs?: number): Promise<void> {
  const answer = (await sendHaproxyCommand(socket, 'show cli level', timeoutMs)).trim();
  if (!['user', 'operator', 'admin'].includes(answer)) {
    throw new OpsError(
      'HAPROXY_ANSWER',
      `HAProxy's admin socket ${socket.text} did not say its level: ${JSON.stringify(answer.split('\n')[0])}.`,
      {
        hint: 'opsctl needs HAProxy 2.0 or newer (`haproxy -v`) and its stats socket at this address.',
        exitCode: ExitCode.unreachable,
      },
    );
  }
  if (answer !== 'admin') {
    throw new OpsError('HAPROXY_NOT_ADMIN', `HAProxy's admin socket ${socket.text} is at level ${answer}, not admin.`, {
      hint: notAdmin(socket, 'set server').hint,
      exitCode: ExitCode.unreachable,
    });
  }
}
