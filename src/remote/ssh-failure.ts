import { ExitCode, OpsError } from '../errors.js';
import type { RunResult } from '../process/runner.js';

/** What ssh's own exit 255 means, told from its stderr (OpenSSH's messages, stable for decades). */
export function sshFailure(
  host: string,
  res: RunResult,
  knownHosts: string | undefined,
  identityFile?: string,
): OpsError {
  const text = res.stderr;
  const where = knownHosts ?? '~/.ssh/known_hosts';
  const verify =
    `Verify the host's key out of band: run \`ssh-keyscan -t ed25519 ${bare(host)}\`, compare \`ssh-keygen -lf\` of it ` +
    `with the fingerprint the host's owner reads from \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\`, then add the line to ${where}.`;
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/i.test(text)) {
    return new OpsError('HOST_KEY_CHANGED', `The host key of ${host} has changed since it was recorded in ${where}.`, {
      hint: `This can be an attack or a reinstalled host. ${verify} Remove the old line first (\`ssh-keygen -R\`).`,
      exitCode: ExitCode.unreachable,
    });
  }
  if (/Host key verification failed|No \S+ host key is known|host key is not known/i.test(text)) {
    return new OpsError('HOST_KEY_UNKNOWN', `The host key of ${host} is not known (${where}).`, {
      hint: verify,
      exitCode: ExitCode.unreachable,
    });
  }
  if (/UNPROTECTED PRIVATE KEY FILE|are too open/i.test(text)) {
    const key = identityFile ?? 'the key file';
    return new OpsError(
      'SSH_KEY_PERMISSIONS',
      `ssh ignored ${key}: its permissions are too open (ssh refuses a key others can read), so ${host} refused the connection.`,
      {
        hint: `Run \`chmod 600 ${key}\`.`,
        exitCode: ExitCode.unreachable,
      },
    );
  }
  if (/Permission denied/i.test(text)) {
    return new OpsError('SSH_AUTH', `${host} refused the ssh key (${lastLine(text)}).`, {
      hint:
        'Check targets.<name>.ssh.identityFile (or your ssh agent) and the user in the destination. A key with a ' +
        'passphrase must be loaded in your ssh agent first (`ssh-add <key>`): opsctl never asks for a passphrase.',
      exitCode: ExitCode.unreachable,
    });
  }
  return new OpsError(
    'HOST_UNREACHABLE',
    `${host} is unreachable over ssh (${res.timedOut ? 'timed out' : lastLine(text) || `exit ${res.exitCode}`}).`,
    {
      hint: 'Check the address and port, that sshd runs there, and the network between (firewall, VPN).',
      exitCode: ExitCode.unreachable,
    },
  );
}

function bare(host: string): string {
  return host
    .replace(/^.*@/, '')
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1');
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).at(-1)?.trim() ?? '';
}
