import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Target, TargetHost } from '../config/target.js';
import { configError, ExitCode, OpsError } from '../errors.js';
import type { Runner, RunResult } from '../process/runner.js';
import { remoteCommand } from './remote-command.js';
import { sshFailure } from './ssh-failure.js';

const CONTROL_PERSIST_S = 120; // outlives the longest pause between two steps of one run; closed at the end anyway
const CLOSE_TIMEOUT_MS = 10_000;

/** Options for one remote command. */
export interface RemoteRunOptions {
  timeoutMs: number;
  input?: string;
  inputFile?: string;
  signal?: AbortSignal;
  onLine?: (line: string) => void;
}

/**
 * One host reached through the system's OpenSSH client: one multiplexed connection (ControlMaster) reused by every
 * command, host keys always checked (StrictHostKeyChecking=yes), never a password prompt (BatchMode).
 */
export interface SshHost {
  host: TargetHost;
  /** Run argv on the host. ssh's own failures (exit 255) throw an exit-4 OpsError; the command's are values. */
  run(commands: string[][], options: RemoteRunOptions): Promise<RunResult>;
}

/** Every host of a target, with `close()` to end the connections (call it in finally). */
export interface SshSession {
  hosts: SshHost[];
  /**
   * End the connections now (what they still had to send is dropped: an interrupted copy over a slow link); the next
   * command opens a new one.
   */
  disconnect(): Promise<void>;
  close(): Promise<void>;
}

export function openSession(runner: Runner, target: Target): SshSession {
  verifyIdentityFile(target);
  // a short folder: a unix socket path has ~100 bytes
  const dir = mkdtempSync(join(tmpdir(), 'opsctl-ssh-'));
  const base = baseOptions(target, dir);
  const hosts = target.hosts.map((host): SshHost => {
    const args = [...base, ...(host.port ? ['-p', String(host.port)] : []), ...(host.user ? ['-l', host.user] : [])];
    return {
      host,
      async run(commands, options) {
        const res = await runner.run('ssh', [...args, '--', host.host, remoteCommand(...commands)], options);
        // cancelled (Ctrl-C): ssh was ended, its result says nothing about the host
        if (options.signal?.aborted) throw options.signal.reason;
        if (res.notFound) throw sshMissing();
        if (res.exitCode === 255 || (res.timedOut && !res.stdout))
          throw sshFailure(host.name, res, target.ssh.knownHosts, target.ssh.identityFile);
        return res;
      },
    };
  });
  const disconnect = async () => {
    await Promise.all(
      target.hosts.map((host) =>
        runner.run('ssh', [...base, ...(host.port ? ['-p', String(host.port)] : []), '-O', 'exit', '--', host.host], {
          timeoutMs: CLOSE_TIMEOUT_MS,
        }),
      ),
    );
  };
  return {
    hosts,
    disconnect,
    async close() {
      await disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function baseOptions(target: Target, dir: string): string[] {
  const o = (option: string) => ['-o', option];
  const { identityFile, knownHosts, connectTimeoutS } = target.ssh;
  return [
    ...o('BatchMode=yes'),
    ...o('StrictHostKeyChecking=yes'),
    ...o('ControlMaster=auto'),
    ...o(`ControlPath=${join(dir, '%C')}`),
    ...o(`ControlPersist=${CONTROL_PERSIST_S}`),
    ...o(`ConnectTimeout=${connectTimeoutS}`),
    ...o('ServerAliveInterval=15'),
    ...o('LogLevel=ERROR'),
    ...(knownHosts ? [...o(`UserKnownHostsFile=${knownHosts}`), ...o('GlobalKnownHostsFile=/dev/null')] : []),
    ...(identityFile ? ['-i', identityFile, ...o('IdentitiesOnly=yes')] : []),
  ];
}

function sshMissing(): OpsError {
  return new OpsError('SSH_MISSING', 'The ssh client (OpenSSH) is not installed here.', {
    hint: 'Install it (Debian/Ubuntu: apt-get install openssh-client).',
    exitCode: ExitCode.unreachable,
  });
}

/** A configured identityFile that is not there: ssh would only warn and then be refused, naming no file (exit 2). */
function verifyIdentityFile(target: Target): void {
  const file = target.ssh.identityFile;
  if (file && !existsSync(file)) {
    throw configError(
      `targets.${target.name}.ssh.identityFile: ${file} does not exist.`,
      "Fix the path (~/ is the home folder, a relative path the app root's), or leave it out to use your ssh config and agent.",
    );
  }
}
