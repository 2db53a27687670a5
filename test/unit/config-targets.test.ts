import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { parseDestination, readTarget } from '../../src/config/target.js';
import { OpsError } from '../../src/errors.js';
import { opsErrorWithHintOf } from '../helpers/errors.js';

let root: string;
const load = (yaml: string, env: Record<string, string> = {}) => {
  writeFileSync(join(root, 'opsctl.config.yaml'), yaml);
  return loadConfig({ cwd: root, processEnv: env });
};
const failure = opsErrorWithHintOf;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-targets-'));
  mkdirSync(join(root, 'api'));
  writeFileSync(join(root, 'api/package.json'), '{"name":"api","scripts":{"start":"node ."}}');
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('targets config', () => {
  it('resolves hosts, paths, defaults and ${VAR}', () => {
    const config = load(
      [
        'targets:',
        '  production:',
        '    hosts: [deploy@10.0.0.11, "deploy@10.0.0.12:2222", "[fd00::1]:22", web3]',
        '    path: ${SHOP_PATH:-/srv/shop}',
        '    ssh: { identityFile: ~/.ssh/deploy_ed25519, knownHosts: deploy/known_hosts }',
        '    loadBalancer: { haproxy: { socket: /run/haproxy/admin.sock, backend: shop_api } }',
      ].join('\n'),
    );
    const t = readTarget(config, 'production');
    expect(t.hosts).toEqual([
      { name: 'deploy@10.0.0.11', user: 'deploy', host: '10.0.0.11' },
      { name: 'deploy@10.0.0.12:2222', user: 'deploy', host: '10.0.0.12', port: 2222 },
      { name: '[fd00::1]:22', host: 'fd00::1', port: 22 },
      { name: 'web3', host: 'web3' },
    ]);
    expect(t.path).toBe('/srv/shop');
    expect(t.ssh).toEqual({
      identityFile: join(homedir(), '.ssh/deploy_ed25519'),
      knownHosts: join(root, 'deploy/known_hosts'),
      connectTimeoutS: 10,
    });
    expect(t.loadBalancer).toEqual({ haproxy: { socket: '/run/haproxy/admin.sock', backends: 'shop_api' } });
    expect(t).toMatchObject({ maxUnavailable: 1, build: 'local' });
  });

  it('an --env overlay replaces a target', () => {
    writeFileSync(
      join(root, 'opsctl.config.yaml'),
      'targets: { web: { hosts: [a], path: /srv/a } }\nenvironments: { staging: { targets: { web: { hosts: [b], path: /srv/b } } } }\n',
    );
    const config = loadConfig({ cwd: root, env: 'staging', processEnv: {} });
    expect(readTarget(config, 'web')).toMatchObject({ hosts: [{ host: 'b' }], path: '/srv/b' });
  });

  it('rejects bad destinations, relative paths, shell characters and unknown targets with exit 2', () => {
    expect(failure(() => load('targets: { p: { hosts: ["a;rm -rf /"], path: /srv/a } }')).message).toMatch(
      /targets\.p\.hosts\.0/,
    );
    expect(failure(() => load('targets: { p: { hosts: [a], path: srv/a } }')).message).toMatch(/targets\.p\.path/);
    expect(failure(() => load('targets: { p: { hosts: [], path: /srv/a } }')).exitCode).toBe(2);
    const config = load('targets: { p: { hosts: [a, "a:22"], path: /srv/a } }');
    expect(failure(() => readTarget(config, 'p')).message).toMatch(/lists a:22 twice/);
    const remote = load('targets: { p: { hosts: [a], path: /srv/a, build: remote } }');
    expect(failure(() => readTarget(remote, 'p')).message).toMatch(/not supported yet/);
    const unknown = failure(() => readTarget(config, 'prod'));
    expect(unknown.exitCode).toBe(2);
    expect(unknown.hint).toMatch(/Known targets: p/);
  });

  it('parses destinations strictly', () => {
    expect(parseDestination('u@h:2', 'k')).toEqual({ name: 'u@h:2', user: 'u', host: 'h', port: 2 });
    for (const bad of ['-oProxyCommand=x', 'u@', 'h:0', 'h:70000', '@h', 'u@-h', 'a b'])
      expect(() => parseDestination(bad, 'k'), bad).toThrow(OpsError);
  });
});
