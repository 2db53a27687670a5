import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { identityEnv } from '../../src/app/env.js';
import { envChangesSince, markLive, readLive } from '../../src/app/live.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import { appPackage } from '../helpers/check-context.js';

const root = mkdtempSync(join(tmpdir(), 'opsctl-identity-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = (env: Record<string, string>, extra: Partial<ResolvedConfig> = {}) =>
  ({
    root,
    env,
    dotenvKeys: ['FOO', 'API_TOKEN'],
    database: { url: 'postgres://u:pw@h/db', source: 'env', table: 't', schema: 'public' },
    redis: {},
    ...extra,
  }) as ResolvedConfig;
const pkg = appPackage({ name: 'api', port: 4100, env: { NODE_ENV: 'production' } });

describe('identityEnv: what a release is made of (README, "Deploy")', () => {
  it('the keys of .env, PORT, DATABASE_URL, REDIS_URL and the package env; not the rest of the shell', () => {
    const env = { FOO: 'from-shell', API_TOKEN: 't', PATH: '/bin', TERM: 'xterm', SSH_TTY: '/dev/pts/1' };
    expect(identityEnv(config(env), pkg)).toEqual({
      FOO: 'from-shell',
      API_TOKEN: 't',
      PORT: '4100',
      DATABASE_URL: 'postgres://u:pw@h/db',
      NODE_ENV: 'production',
    });
    expect(identityEnv(config(env, { redis: { url: 'redis://h:6379' } }), pkg).REDIS_URL).toBe('redis://h:6379');
  });
});

describe('the live record', () => {
  it('keeps a keyed hash per key, never a value; differences are named per key', () => {
    const before = { FOO: 'secret-one-value', PORT: '4100', GONE: 'x' };
    markLive(root, 'api', 'aaaaaaaaaaaa', before);
    const text = readFileSync(join(root, '.opsctl', 'releases', 'api', 'live.json'), 'utf8');
    expect(text).not.toContain('secret-one-value');
    expect(text).not.toContain('4100');
    expect(statSync(join(root, '.opsctl', 'deploy', 'fingerprint.key')).mode & 0o777).toBe(0o600);
    const live = readLive(root, 'api')!;
    expect(live.history).toEqual(['aaaaaaaaaaaa']);
    expect(envChangesSince(root, live, before)).toEqual([]);
    expect(envChangesSince(root, live, { FOO: 'secret-two', PORT: '4100', NEW: 'y' })).toEqual([
      'env FOO changed',
      'env GONE removed',
      'env NEW added',
    ]);
  });
});
