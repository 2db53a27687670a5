// Hand-written: reading /proc directly answers in milliseconds, where spawning lsof or ss costs far more (Linux only).
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Every numeric entry of /proc: the visible processes. */
export async function listPids(procRoot = '/proc'): Promise<number[]> {
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  return entries.filter((e) => /^\d+$/.test(e)).map(Number);
}

/**
 * Which process holds each socket inode, found through the `socket:[inode]` links in /proc/<pid>/fd.
 * Processes of other users are unreadable without root; their sockets stay unmapped.
 * Several processes can share one socket (cluster workers, forks): the lowest PID wins, usually the parent.
 */
export async function findSocketOwners(inodes: Iterable<number>, procRoot = '/proc'): Promise<Map<number, number>> {
  const wanted = new Set(inodes);
  const owners = new Map<number, number>();
  if (!wanted.size) return owners;
  const pids = (await listPids(procRoot)).sort((a, b) => a - b);
  await Promise.all(
    pids.map(async (pid) => {
      const fdDir = join(procRoot, String(pid), 'fd');
      const fds = await readdir(fdDir).catch(() => [] as string[]);
      for (const fd of fds) {
        const target = await readlink(join(fdDir, fd)).catch(() => '');
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (!match) continue;
        const inode = Number(match[1]);
        const current = owners.get(inode);
        if (wanted.has(inode) && (current === undefined || pid < current)) owners.set(inode, pid);
      }
    }),
  );
  return owners;
}

/** A process' argv from /proc/<pid>/cmdline (NUL-separated), or undefined when gone or unreadable. */
export async function readProcCmdline(pid: number, procRoot = '/proc'): Promise<string[] | undefined> {
  const raw = await readFile(join(procRoot, String(pid), 'cmdline'), 'utf8').catch(() => undefined);
  if (!raw) return undefined;
  return raw.replace(/\0+$/, '').split('\0');
}

/** One variable of a process' initial environment (e.g. NODE_OPTIONS), from /proc/<pid>/environ. */
export async function readProcEnvVar(pid: number, name: string, procRoot = '/proc'): Promise<string | undefined> {
  const raw = await readFile(join(procRoot, String(pid), 'environ'), 'utf8').catch(() => undefined);
  const prefix = `${name}=`;
  return raw
    ?.split('\0')
    .find((entry) => entry.startsWith(prefix))
    ?.slice(prefix.length);
}

/** The executable a process runs (/proc/<pid>/exe), which, unlike cmdline, process.title cannot change. */
/** A process' working folder (/proc/<pid>/cwd), or undefined when gone or unreadable. */
export async function readProcCwd(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  return readlink(join(procRoot, String(pid), 'cwd')).catch(() => undefined);
}

export async function readProcExe(pid: number, procRoot = '/proc'): Promise<string | undefined> {
  return readlink(join(procRoot, String(pid), 'exe')).catch(() => undefined);
}
