import { appendFileSync, chownSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EmbeddedPaths } from './embedded-state.js';
import type { ServerUser } from './os-user.js';

const CONF_FILE = 'opsctl.conf';
const INCLUDE_LINE = `include_if_exists = '${CONF_FILE}'`;
/** sun_path holds 108 bytes on Linux; a longer socket path makes the server fail to start. */
const MAX_SOCKET_PATH = 100;

/**
 * Port, listen address and socket folder live in a config file inside PGDATA rather than in pg_ctl's `-o`
 * string, because pg_ctl hands `-o` to a shell: a path with spaces or quotes would break or inject.
 */
export function writeServerConf(paths: EmbeddedPaths, port: number, user: ServerUser): void {
  const postgresqlConf = join(paths.dataDir, 'postgresql.conf');
  if (!readFileSync(postgresqlConf, 'utf8').includes(INCLUDE_LINE))
    appendFileSync(postgresqlConf, `\n${INCLUDE_LINE}\n`);
  // no Unix socket when the path is too long: the server listens on 127.0.0.1 only, which is all we use
  const socketPath = join(paths.socketDir, `.s.PGSQL.${port}`);
  const socketDirs = socketPath.length <= MAX_SOCKET_PATH ? paths.socketDir : '';
  const lines = [
    '# written by opsctl db start on every start; edits are overwritten',
    `port = ${port}`,
    `listen_addresses = '127.0.0.1'`,
    `unix_socket_directories = ${quote(socketDirs)}`,
  ];
  const file = join(paths.dataDir, CONF_FILE);
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  if (user.uid !== undefined) chownSync(file, user.uid, user.gid ?? user.uid);
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
