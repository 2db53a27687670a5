import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';

/**
 * One subnet (bridge `opsbr<n>`, namespaces `opsctl-t<n>-h<i>`, veths `opsv<n>h<i>`, 10.213.<n>.0/24) per
 * startHosts call, unique on the machine: several runs of the suite at once (two checkouts, a CI clone beside a
 * worktree) must not take each other's. A run claims a number by creating its bridge under a machine-wide lock and
 * writing its owner (pid, the pid's start time, pid namespace) in the bridge's alias; a bridge whose owner is dead
 * is a leftover of a killed run and is cleaned and reused, one whose owner lives or that has no owner record (not
 * made by this helper) is never touched.
 */
export const SUBNETS = { from: 100, to: 249 };
const LOCK = '/run/opsctl-test-hosts.lock';
const LOCK_TIMEOUT_S = 60;
const TAG = 'opsctl-test-hosts';

export const bridgeName = (n: number) => `opsbr${n}`;
export const namespaceName = (n: number, i: number) => `opsctl-t${n}-h${i}`;
export const vethName = (n: number, i: number) => `opsv${n}h${i}`;

/** Start time of a process (clock ticks since boot, /proc/<pid>/stat field 22), undefined when it is gone. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces and parentheses: count from the last ')'
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const pidNamespace = () => readlinkSync('/proc/self/ns/pid');

/** The owner record of `pid` as written in a bridge's alias. */
export function ownerRecord(pid = process.pid): string {
  return `${TAG} pid=${pid} start=${processStart(pid)} pidns=${pidNamespace()}`;
}

/** `foreign`: no record of this helper; `live`: its owner runs (or cannot be judged from here); `dead`: a leftover. */
export function judgeOwner(alias: string): 'foreign' | 'live' | 'dead' {
  const fields = alias.trim().split(' ');
  if (fields[0] !== TAG) return 'foreign';
  const record = Object.fromEntries(fields.slice(1).map((f) => f.split('=') as [string, string]));
  if (record.pidns !== pidNamespace()) return 'live'; // another pid namespace: its pids mean nothing here
  return processStart(Number(record.pid)) === record.start ? 'live' : 'dead';
}

export function readBridgeAlias(bridge: string): string | undefined {
  try {
    return readFileSync(`/sys/class/net/${bridge}/ifalias`, 'utf8');
  } catch {
    return undefined;
  }
}

export function writeBridgeAlias(bridge: string, alias: string): void {
  writeFileSync(`/sys/class/net/${bridge}/ifalias`, alias);
}

/**
 * Claim a free subnet number in `range` (SUBNETS by default) for this process (`cleanSubnet(n)` gives it back).
 * Throws when every number is held by a live run or by something not made here.
 */
export async function claimSubnet(range = SUBNETS): Promise<number> {
  return withLock(() => {
    for (let n = range.from; n <= range.to; n++) {
      const bridge = bridgeName(n);
      if (createBridge(bridge)) return n;
      const alias = readBridgeAlias(bridge);
      if (alias === undefined || judgeOwner(alias) !== 'dead') continue;
      cleanSubnet(n);
      if (createBridge(bridge)) return n;
    }
    throw new Error(`no free test subnet in ${range.from}..${range.to}: every bridge opsbr<n> is held by a live run`);
  });
}

/** Create the bridge and record this process as its owner; false when it exists already. */
function createBridge(bridge: string): boolean {
  const made = spawnSync('ip', ['link', 'add', bridge, 'type', 'bridge'], { encoding: 'utf8' });
  if (made.status !== 0) {
    if (/exists/i.test(made.stderr)) return false;
    throw new Error(`ip link add ${bridge} failed: ${made.stderr}`);
  }
  writeBridgeAlias(bridge, ownerRecord());
  // a bridge of this number whose owner died may have left namespaces behind (killed between their creation and
  // its own): nobody alive owns them now that this process holds the number
  for (const ns of subnetNamespaces(Number(bridge.slice('opsbr'.length)))) {
    killProcesses(ns.name);
    deleteNamespace(ns.name, ns.veth);
  }
  return true;
}

/** Every namespace (and its veth) of subnet `n`: opsctl-t<n>-h<i>. */
function subnetNamespaces(n: number): { name: string; veth: string }[] {
  const pattern = new RegExp(`^opsctl-t${n}-h(\\d+)$`);
  return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => pattern.exec(line.split(' ')[0] ?? ''))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ name: m[0], veth: vethName(n, Number(m[1])) }));
}

/** Remove every process, namespace and veth of subnet `n`, then its bridge. Only for a number this process owns. */
export function cleanSubnet(n: number): void {
  const namespaces = subnetNamespaces(n);
  // every host's processes first: a host's mount namespace holds the others' /run/netns mounts until it ends
  for (const ns of namespaces) killProcesses(ns.name);
  for (const ns of namespaces) deleteNamespace(ns.name, ns.veth);
  spawnSync('ip', ['link', 'del', bridgeName(n)]);
}

/** Run `fn` holding the machine-wide lock (flock(1) in a child that lives as long as the lock is needed). */
async function withLock<T>(fn: () => T): Promise<T> {
  const holder = spawn(
    'flock',
    ['--exclusive', '--timeout', String(LOCK_TIMEOUT_S), LOCK, 'sh', '-c', 'echo locked; exec cat'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  holder.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((done) => holder.once('close', () => done()));
  const locked = await new Promise<boolean>((done) => {
    holder.stdout.once('data', () => done(true));
    holder.once('close', () => done(false));
    holder.once('error', () => done(false));
  });
  try {
    if (!locked) throw new Error(`could not take ${LOCK} within ${LOCK_TIMEOUT_S} s: ${stderr}`);
    return fn();
  } finally {
    holder.stdin.end(); // cat ends, flock releases (also when this process dies: its end of the pipe closes)
    await exited;
  }
}

/** Kill every process in the namespace (sshd, PM2 daemons, apps). */
export function killProcesses(ns: string): void {
  for (let round = 0; round < 20; round++) {
    const pids =
      spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean) ?? [];
    if (!pids.length) return;
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
    }
    spawnSync('sleep', ['0.1']);
  }
}

/** Delete the namespace and its veth, retrying while the kernel still tears down what held it. */
export function deleteNamespace(ns: string, veth: string): void {
  for (let round = 0; round < 30; round++) {
    spawnSync('ip', ['netns', 'del', ns]);
    spawnSync('ip', ['link', 'del', veth]);
    const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .some((l) => l.split(' ')[0] === ns);
    const link = spawnSync('ip', ['link', 'show', veth]).status === 0;
    if (!left && !link) return;
    spawnSync('sleep', ['0.1']);
  }
}
