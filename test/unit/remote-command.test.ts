import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { hostGlobals } from '../../src/remote/host-files.js';
import { remoteCommand, shellQuote } from '../../src/remote/remote-command.js';

const NASTY = ["it's", '$(touch /tmp/x)', '`id`', 'a;b', 'a b', '*', '~', '\n', '', '"', '\\', "'", '-n', 'a\'"$b'];

describe('remote commands', () => {
  it('every argument reaches a real POSIX shell exactly as given', () => {
    const script = remoteCommand(['printf', '%s\\0', ...NASTY]);
    const res = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
    expect(res.status).toBe(0);
    expect(res.stdout.split('\0').slice(0, -1)).toEqual(NASTY);
  });

  it('joins whole commands with && only', () => {
    expect(remoteCommand(['mkdir', '-p', '/srv/a b'], ['true'])).toBe("mkdir -p '/srv/a b' && true");
    expect(shellQuote('/srv/shop')).toBe('/srv/shop');
  });
});

describe('host-side global options', () => {
  it('pass --env on, and -c for a config not found by its default name, relative to the app', () => {
    expect(hostGlobals({ root: '/app', file: '/app/opsctl.config.yaml', envName: 'production' })).toEqual([
      '--env',
      'production',
    ]);
    expect(hostGlobals({ root: '/app', file: '/app/deploy/prod.yaml' })).toEqual(['-c', 'deploy/prod.yaml']);
    expect(() => hostGlobals({ root: '/app', file: '/etc/opsctl.yaml' })).toThrow(/outside the app root/);
  });
});
