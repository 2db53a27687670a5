import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { bumpBetween, bumpOf, reachesLevel } from '../../src/deps/bump.js';
import { tlsFromNpmConfig } from '../../src/deps/http-get.js';
import { authHeader, parseNpmrc, readNpmConfig, registryFor } from '../../src/deps/npm-config.js';
import { parseNpmOutdated } from '../../src/deps/npm-outdated.js';
import type { OutdatedDependency } from '../../src/deps/types.js';
import { clearSecrets, MASK, redact } from '../../src/output/redact.js';

const dir = mkdtempSync(join(tmpdir(), 'opsctl-npmrc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => clearSecrets());

function files(project: string, user: string, global: string) {
  const p = join(dir, 'project');
  mkdirSync(p, { recursive: true });
  writeFileSync(join(p, '.npmrc'), project);
  writeFileSync(join(dir, 'user.npmrc'), user);
  writeFileSync(join(dir, 'global.npmrc'), global);
  return {
    project: p,
    env: { npm_config_userconfig: join(dir, 'user.npmrc'), npm_config_globalconfig: join(dir, 'global.npmrc') },
  };
}

describe('npm configuration', () => {
  it('env beats project beats user beats global; ${VAR} is expanded; scopes and auth', () => {
    const { project, env } = files(
      'registry=https://project.example/npm/\n@acme:registry=https://acme.example\n',
      'registry=https://user.example/\n//project.example/npm/:_authToken=${NPM_TOKEN}\n',
      'registry=https://global.example/\nfetch-timeout=1234\n',
    );
    const config = readNpmConfig(project, { ...env, NPM_TOKEN: 'tok-secret-123' });
    expect(config.registry).toBe('https://project.example/npm/');
    expect(config.values['fetch-timeout']).toBe('1234');
    expect(registryFor(config, '@acme/lib')).toBe('https://acme.example/');
    expect(registryFor(config, 'ms')).toBe('https://project.example/npm/');
    expect(authHeader(config, 'https://project.example/npm/')).toBe('Bearer tok-secret-123');
    expect(authHeader(config, 'https://acme.example/')).toBeUndefined();
    expect(redact('token tok-secret-123')).toBe(`token ${MASK}`); // a token can never be printed
    const fromEnv = readNpmConfig(project, { ...env, NPM_CONFIG_REGISTRY: 'http://127.0.0.1:9/' });
    expect(fromEnv.registry).toBe('http://127.0.0.1:9/');
  });

  it('auth by the longest matching path, basic auth from username and _password', () => {
    const { project, env } = files(
      '//reg.example/:_authToken=host-token\n//reg.example/deep/path/:username=bob\n//reg.example/deep/path/:_password=' +
        `${Buffer.from('pw-secret').toString('base64')}\n`,
      '',
      '',
    );
    const config = readNpmConfig(project, env);
    expect(authHeader(config, 'https://reg.example/other/')).toBe('Bearer host-token');
    expect(authHeader(config, 'https://reg.example/deep/path/')).toBe(
      `Basic ${Buffer.from('bob:pw-secret').toString('base64')}`,
    );
  });

  it('proxies make opsctl ask npm itself', () => {
    const { project, env } = files('https-proxy=http://proxy.example:3128\n', '', '');
    expect(readNpmConfig(project, env).unsupported).toEqual(['https-proxy']);
    expect(readNpmConfig(project, { ...env, HTTPS_PROXY: 'http://p:1' }).unsupported).toContain('HTTPS_PROXY');
  });

  it('parses npmrc syntax', () => {
    expect(parseNpmrc('; c\n# c\na = "quoted"\nb=${X?}\nc=\\${X}\nlist[]=1\n[section]\nd=1\n', { X: 'x' })).toEqual({
      a: 'quoted',
      b: 'x',
      c: '${X}',
      list: ['1'],
    });
  });

  it('keeps every value of a ca[] list', () => {
    const pem = (n: number) => `-----BEGIN CERTIFICATE-----\\nMII${n}\\n-----END CERTIFICATE-----`;
    const { project, env } = files(`ca[]="${pem(1)}"\nca[]="${pem(2)}"\nstrict-ssl=false\n`, '', '');
    const tls = tlsFromNpmConfig(readNpmConfig(project, env).values);
    expect(tls.ca).toEqual([1, 2].map((n) => `-----BEGIN CERTIFICATE-----\nMII${n}\n-----END CERTIFICATE-----`));
    expect(tls.rejectUnauthorized).toBe(false);
  });

  it('maps npm_config_* names as npm does: a leading underscore stays (_auth), nerf-darted keys as written', () => {
    const { project, env } = files('', '', '');
    const config = readNpmConfig(project, {
      ...env,
      npm_config__auth: 'legacy-auth-secret',
      NPM_CONFIG_FETCH_TIMEOUT: '4321',
      'npm_config_//reg.example/:_authToken': 'nerf-token-secret',
      npm_config_omit: '',
    });
    expect(config.values._auth).toBe('legacy-auth-secret');
    expect(config.values['-auth']).toBeUndefined();
    expect(config.values['fetch-timeout']).toBe('4321');
    expect(config.values.omit).toBeUndefined(); // npm ignores empty npm_config_* values
    expect(authHeader(config, 'https://reg.example/')).toBe('Bearer nerf-token-secret');
    expect(redact('legacy-auth-secret nerf-token-secret')).toBe(`${MASK} ${MASK}`);
  });
});

describe('bump, --fail-on and recorded npm output', () => {
  const dep = (bump: OutdatedDependency['bump']): OutdatedDependency => ({
    package: 'p',
    name: 'n',
    kind: 'prod',
    current: bump ? '1.0.0' : null,
    wanted: '1.0.0',
    latest: '2.0.0',
    bump,
  });

  it('bumps', () => {
    expect(bumpBetween('1.0.0', '2.0.0')).toBe('major');
    expect(bumpBetween('1.0.0', '1.1.0')).toBe('minor');
    expect(bumpBetween('1.0.0', '1.0.1')).toBe('patch');
    expect(bumpBetween('1.0.0', '2.0.0-rc.1')).toBe('major');
    expect(bumpBetween('1.0.0', '1.0.0')).toBeNull();
    expect(bumpOf('2.1.3', '2.0.0', '2.1.3')).toBe('minor'); // wanted below current
    expect(bumpOf(null, '1.0.0', '2.0.0')).toBeNull();
  });

  it('--fail-on levels', () => {
    expect(reachesLevel(dep('minor'), 'major')).toBe(false);
    expect(reachesLevel(dep('major'), 'minor')).toBe(true);
    expect(reachesLevel(dep('patch'), 'patch')).toBe(true);
    expect(reachesLevel(dep(null), 'patch')).toBe(false);
    expect(reachesLevel(dep(null), 'any')).toBe(true);
  });

  it('reads npm outdated --json, including the array form for a name listed twice', () => {
    const text = JSON.stringify({
      ms: [
        { current: '2.0.0', wanted: '2.0.0', latest: '2.1.3', dependent: 'a', location: '/x/node_modules/ms' },
        { wanted: '2.1.3', latest: '2.1.3', dependent: 'b' },
      ],
      kleur: { current: '3.0.0', wanted: '3.0.3', latest: '4.1.5', dependent: 'a', location: '/x/node_modules/kleur' },
    });
    expect(parseNpmOutdated(text, 'app', new Set(['kleur']))).toEqual([
      {
        package: 'app',
        name: 'ms',
        kind: 'prod',
        current: '2.0.0',
        wanted: '2.0.0',
        latest: '2.1.3',
        bump: 'minor',
        location: '/x/node_modules/ms',
      },
      { package: 'app', name: 'ms', kind: 'prod', current: null, wanted: '2.1.3', latest: '2.1.3', bump: null },
      {
        package: 'app',
        name: 'kleur',
        kind: 'dev',
        current: '3.0.0',
        wanted: '3.0.3',
        latest: '4.1.5',
        bump: 'major',
        location: '/x/node_modules/kleur',
      },
    ]);
    expect(parseNpmOutdated('', 'app', new Set())).toEqual([]);
  });
});
