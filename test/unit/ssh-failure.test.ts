import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../src/process/runner.js';
import { sshFailure } from '../../src/remote/ssh-failure.js';

const result = (stderr: string, extra: Partial<RunResult> = {}): RunResult => ({
  exitCode: 255,
  stdout: '',
  stderr,
  timedOut: false,
  notFound: false,
  durationMs: 5,
  ...extra,
});

describe('ssh failures', () => {
  it('a changed host key: exit 4, names the host, says how to verify and remove the old key', () => {
    const e = sshFailure(
      'deploy@10.0.0.12:2222',
      result(
        '@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n...\nHost key verification failed.',
      ),
      '/app/deploy/known_hosts',
    );
    expect(e).toMatchObject({ code: 'HOST_KEY_CHANGED', exitCode: 4 });
    expect(e.message).toContain('deploy@10.0.0.12:2222');
    expect(e.hint).toContain('ssh-keyscan -t ed25519 10.0.0.12');
    expect(e.hint).toContain('ssh-keygen -R');
    expect(e.hint).toContain('/app/deploy/known_hosts');
  });

  it('an unknown host key, a refused key, an unreachable host', () => {
    expect(
      sshFailure(
        'web1',
        result(
          'No ED25519 host key is known for web1 and you have requested strict checking.\nHost key verification failed.',
        ),
        undefined,
      ),
    ).toMatchObject({ code: 'HOST_KEY_UNKNOWN', exitCode: 4 });
    expect(sshFailure('u@[fd00::1]:22', result('Host key verification failed.'), undefined).hint).toContain(
      'ssh-keyscan -t ed25519 fd00::1',
    );
    expect(sshFailure('web1', result('deploy@web1: Permission denied (publickey).'), undefined)).toMatchObject({
      code: 'SSH_AUTH',
      exitCode: 4,
    });
    const down = sshFailure('web1', result('ssh: connect to host web1 port 22: Connection refused'), undefined);
    expect(down).toMatchObject({ code: 'HOST_UNREACHABLE', exitCode: 4 });
    expect(down.message).toContain('Connection refused');
    expect(sshFailure('web1', result('', { timedOut: true, exitCode: 124 }), undefined).message).toContain('timed out');
  });
});
