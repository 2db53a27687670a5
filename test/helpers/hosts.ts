import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bridgeName, claimSubnet, cleanSubnet, namespaceName, vethName } from './host-subnet.js';

/**
 * Real hosts on this machine for the `--target` tests: each a network namespace joined to a bridge in the root
 * namespace by a veth pair, running its own sshd (key-only, its own host key) inside a private mount namespace
 * with a tmpfs on /srv. The root namespace reaches them at 10.<net>.<subnet>.<10+i>.
 */
export interface TestHost {
  ns: string;
  address: string;
  /** The ssh destination as a target lists it: root@address. */
  destination: string;
  /** `<address> <type> <key>`: the known_hosts line of its real host key. */
  knownHostsLine: string;
}

export interface TestHosts {
  /** The subnet number claimed for these hosts (10.213.<subnet>.0/24, bridge opsbr<subnet>). */
  subnet: number;
  hosts: TestHost[];
  dir: string;
  identityFile: string;
  /** Lists every host's real key. */
  knownHosts: string;
  /** An address in the subnet where no host answers. */
  unreachable: string;
  /** Run argv inside a host's namespaces (as root; for assertions). */
  exec(host: TestHost, argv: string[]): { status: number | null; stdout: string; stderr: string };
  stop(): void;
}

const READY_TIMEOUT_MS = 10_000;

/** Why the host tests cannot run here, or undefined when they can (root with CAP_NET_ADMIN, sshd, ip, unshare). */
export function hostsSkipReason(): string | undefined {
  if (process.getuid?.() !== 0)
    return 'not root: network namespaces cannot be created, the --target host tests are skipped';
  for (const bin of ['/usr/sbin/sshd', 'ip', 'unshare', 'ssh', 'ssh-keygen', 'flock', 'nsenter']) {
    if (spawnSync('sh', ['-c', 'command -v "$1"', 'sh', bin]).status !== 0)
      return `${bin} is missing: host tests skipped`;
  }
  const probe = `opsctl-probe-${process.pid}`;
  const made = spawnSync('ip', ['netns', 'add', probe]);
  spawnSync('ip', ['netns', 'del', probe]);
  if (made.status !== 0)
    return `network namespaces cannot be created (${made.stderr.toString().trim()}): host tests skipped`;
  return undefined;
}

function must(cmd: string, args: string[]): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/**
 * Start `count` hosts on a subnet 10.213.<n>.0/24 of their own, claimed for this run (host-subnet.ts: several runs
 * of the suite, and several files of one run, may start hosts at once). Call `stop()` in afterAll: it kills every
 * process in the namespaces and deletes them and the bridge.
 */
export async function startHosts(count: number): Promise<TestHosts> {
  const subnet = await claimSubnet();
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-hosts-'));
  const bridge = bridgeName(subnet);
  const prefix = `10.213.${subnet}`;
  const hosts: TestHost[] = [];
  let stopped = false;
  const stop = () => {
    if (stopped) return; // the number may belong to another run by now
    stopped = true;
    cleanSubnet(subnet);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const identityFile = join(dir, 'id_ed25519');
    must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'opsctl-test', '-f', identityFile]);
    chmodSync(identityFile, 0o600);
    writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${identityFile}.pub`));
    must('ip', ['addr', 'add', `${prefix}.1/24`, 'dev', bridge]);
    must('ip', ['link', 'set', bridge, 'up']);
    for (let i = 0; i < count; i++) hosts.push(await startHost(dir, bridge, prefix, subnet, i));
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${hosts.map((h) => h.knownHostsLine).join('\n')}\n`);
    const exec = (host: TestHost, argv: string[]) => {
      const pid = readFileSync(join(dir, `${host.ns}.pid`), 'utf8').trim();
      const res = spawnSync('nsenter', ['-t', pid, '-n', '-m', '--', ...argv], { encoding: 'utf8' });
      return { status: res.status, stdout: res.stdout, stderr: res.stderr };
    };
    return { subnet, hosts, dir, identityFile, knownHosts, unreachable: `${prefix}.250`, exec, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

async function startHost(dir: string, bridge: string, prefix: string, subnet: number, i: number): Promise<TestHost> {
  const ns = namespaceName(subnet, i);
  const address = `${prefix}.${10 + i}`;
  const outside = vethName(subnet, i);
  must('ip', ['netns', 'add', ns]);
  must('ip', ['link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
  must('ip', ['link', 'set', outside, 'master', bridge, 'up']);
  for (const args of [
    ['addr', 'add', `${address}/24`, 'dev', 'eth0'],
    ['link', 'set', 'eth0', 'up'],
    ['link', 'set', 'lo', 'up'],
  ])
    must('ip', ['netns', 'exec', ns, 'ip', ...args]);
  const key = join(dir, `${ns}_host_key`);
  must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  const config = join(dir, `${ns}.sshd_config`);
  writeFileSync(
    config,
    [
      'Port 22',
      `ListenAddress ${address}`,
      `HostKey ${key}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'MaxStartups 100',
      'MaxSessions 100',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // the shell records its pid (= sshd's after exec) so tests can nsenter the same mount namespace
  // the copies of /run/netns/* mounts would keep every namespace made so far alive as long as this one lives
  const script =
    'for m in /run/netns/*; do umount -l "$m" 2>/dev/null; done; ' +
    'mount -t tmpfs tmpfs /srv && echo $$ > "$1" && exec /usr/sbin/sshd -D -e -f "$2"';
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      ns,
      'unshare',
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      script,
      'sh',
      join(dir, `${ns}.pid`),
      config,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.unref();
  await waitForSsh(address, () => (child.exitCode !== null ? `sshd exited: ${stderr}` : undefined));
  const pub = readFileSync(`${key}.pub`, 'utf8').trim().split(' ');
  return { ns, address, destination: `root@${address}`, knownHostsLine: `${address} ${pub[0]} ${pub[1]}` };
}

async function waitForSsh(address: string, failed: () => string | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((done) => {
      const socket = connect(22, address);
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.setTimeout(500, () => done(false));
      socket.once('close', () => done(false));
    }).then((v) => v);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd on ${address} did not come up`);
}
