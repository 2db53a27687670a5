import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../src/config/target.js';
import type { TargetConfig } from '../../src/config/target-schema.js';
import { haproxyConfigText } from '../../src/lb/haproxy-config.js';
import type { AppPackage } from '../../src/packages/types.js';
import { appPackage } from '../helpers/check-context.js';

const pkg = (name: string, fields: Partial<AppPackage> = {}) => appPackage({ name, ...fields });
const target = (raw: Partial<TargetConfig>) =>
  resolveTarget('/app', 'prod', { hosts: ['10.0.0.11'], path: '/srv/shop', ...raw });

describe('haproxyConfigText', () => {
  it('one package: the configured backend name, an IPv6 host in brackets, a TCP stats socket in HAProxy syntax', () => {
    const text = haproxyConfigText({
      target: target({
        hosts: ['deploy@[fd00::11]:2222', 'deploy@web-2.internal'],
        loadBalancer: { haproxy: { socket: 'tcp://127.0.0.1:9999', backend: 'shop_api' } },
      }),
      packages: [pkg('api', { port: 4000, health: '/healthz' }), pkg('worker')],
    });
    expect(text).toContain('  stats socket ipv4@127.0.0.1:9999 mode 600 level admin\n');
    expect(text).toContain('backend shop_api\n  balance roundrobin\n  option httpchk GET /healthz\n');
    expect(text).toContain('  server fd00::11 [fd00::11]:4000 check inter 2s fall 3 rise 2\n');
    expect(text).toContain('  server web-2.internal web-2.internal:4000 check inter 2s fall 3 rise 2\n');
    expect(text).toContain('backend: shop_api } }');
    expect(text).not.toContain('worker');
  });

  it('a backend map leaves out the packages it does not name; no health path means a TCP check', () => {
    const text = haproxyConfigText({
      target: target({
        loadBalancer: { haproxy: { socket: '/run/haproxy/admin.sock', backend: { web: 'shop_web' } } },
      }),
      packages: [pkg('api', { port: 4000, health: '/health' }), pkg('web', { port: 3000 })],
      bind: '10.0.0.5',
    });
    expect(text).toContain('frontend shop_web_front\n  bind 10.0.0.5:3000\n  default_backend shop_web\n');
    expect(text).toContain('  # health: none in the config: a TCP connect check\n');
    expect(text).not.toContain('httpchk');
    expect(text).not.toContain(':4000');
  });

  it('one backend name for two packages with ports is a config error (exit 2) proposing a map', () => {
    const input = {
      target: target({ loadBalancer: { haproxy: { socket: '/run/haproxy/admin.sock', backend: 'shop' } } }),
      packages: [pkg('api', { port: 4000 }), pkg('web', { port: 3000 })],
    };
    expect(() => haproxyConfigText(input)).toThrow(
      expect.objectContaining({ exitCode: 2, hint: 'Make it a map: backend: { api: prod_api, web: prod_web }.' }),
    );
  });

  it('--bind takes *, an IPv4 or an IPv6 address (brackets optional); anything else is a usage error naming it', () => {
    const input = { target: target({}), packages: [pkg('api', { port: 4000 })] };
    expect(haproxyConfigText({ ...input, bind: '::1' })).toContain('  bind [::1]:4000\n');
    expect(haproxyConfigText({ ...input, bind: '[fd00::5]' })).toContain('  bind [fd00::5]:4000\n');
    expect(haproxyConfigText({ ...input, bind: '*' })).toContain('  bind *:4000\n');
    for (const bad of ['not an address', '10.0.0', '10.0.0.5:80', 'example.com', '']) {
      expect(() => haproxyConfigText({ ...input, bind: bad })).toThrow(
        expect.objectContaining({
          exitCode: 2,
          message: `--bind ${JSON.stringify(bad)} is not an address HAProxy can listen on.`,
          hint: expect.stringContaining('an IPv4 address (10.0.0.5), an IPv6 address (fd00::5) or * (every address)'),
        }),
      );
    }
  });

  it('no package with a port: exit 2', () => {
    expect(() => haproxyConfigText({ target: target({}), packages: [pkg('worker')] })).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringContaining('No package has a port') }),
    );
  });
});
