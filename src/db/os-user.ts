import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import type { Runner } from '../process/runner.js';

/** The OS account the embedded server runs as. Empty when opsctl is not root (it runs as us). */
export interface ServerUser {
  uid?: number;
  gid?: number;
}

export const POSTGRES_OS_USER = 'postgres';
const ID_TIMEOUT_MS = 5_000;

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** PostgreSQL refuses to run as root, so as root we run it as the `postgres` account (undefined: no such account). */
export async function readServerUser(runner: Runner): Promise<ServerUser | undefined> {
  if (!isRoot()) return {};
  const [uid, gid] = await Promise.all([
    runner.run('id', ['-u', POSTGRES_OS_USER], { timeoutMs: ID_TIMEOUT_MS }),
    runner.run('id', ['-g', POSTGRES_OS_USER], { timeoutMs: ID_TIMEOUT_MS }),
  ]);
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** The first folder on the way to `path` that `user` may not enter, or undefined when every one lets it in. */
export function blockingFolder(path: string, user: ServerUser): string | undefined {
  if (user.uid === undefined) return undefined;
  for (let current = dirname(path); ; current = dirname(current)) {
    const st = statSync(current);
    const canEnter = st.uid === user.uid ? st.mode & 0o100 : st.gid === user.gid ? st.mode & 0o010 : st.mode & 0o001;
    if (!canEnter) return current;
    if (current === dirname(current)) return undefined;
  }
}

/**
 * The server account must be able to reach `.opsctl/pg` through every parent folder. A folder under
 * /root or a 0700 temp folder is not reachable; say which one and how to fix it.
 */
export function verifyTraversable(dir: string, user: ServerUser): void {
  const current = blockingFolder(dir, user);
  if (!current) return;
  throw new OpsError(
    'DB_NOT_TRAVERSABLE',
    `The "${POSTGRES_OS_USER}" OS user cannot enter "${current}", so the embedded PostgreSQL cannot use ${dir}.`,
    {
      hint: `PostgreSQL does not run as root, so opsctl runs it as "${POSTGRES_OS_USER}". Allow it in (chmod o+x "${current}") or move the app to a folder it can reach.`,
      exitCode: ExitCode.failed,
    },
  );
}

/** The account to run the server as; as root, the `postgres` account is created when missing. */
export async function ensureServerUser(runner: Runner): Promise<ServerUser> {
  const existing = await readServerUser(runner);
  if (existing) return existing;
  for (const [cmd, args] of [
    ['groupadd', ['-f', POSTGRES_OS_USER]],
    ['useradd', ['-g', POSTGRES_OS_USER, '-M', '-s', '/usr/sbin/nologin', POSTGRES_OS_USER]],
  ] as const) {
    await runner.run(cmd, [...args], { timeoutMs: ID_TIMEOUT_MS });
  }
  const created = await readServerUser(runner);
  if (created) return created;
  throw new OpsError(
    'DB_OS_USER',
    'There is no "postgres" OS user to run the embedded PostgreSQL as (it refuses to run as root), and creating one failed.',
    { hint: 'Create one (useradd postgres), or run opsctl as an ordinary user.', exitCode: ExitCode.failed },
  );
}
