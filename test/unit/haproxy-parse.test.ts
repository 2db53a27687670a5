import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseServersState, parseStatJson } from '../../src/lb/haproxy-parse.js';
import { parseHaproxySocket } from '../../src/lb/haproxy-socket.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/haproxy/${name}`, import.meta.url), 'utf8');

describe('parseServersState (recorded HAProxy 2.6 answer)', () => {
  it('reads name, address, port and decodes the operational and admin states', () => {
    expect(parseServersState(fixture('show-servers-state.txt'))).toEqual([
      {
        backend: 'shop_api',
        backendId: 3,
        name: 'app1',
        serverId: 1,
        address: '127.0.0.1',
        port: 19801,
        operational: 'running',
        admin: 'ready',
      },
      {
        backend: 'shop_api',
        backendId: 3,
        name: 'app2',
        serverId: 2,
        address: '127.0.0.2',
        port: 19802,
        operational: 'stopped',
        admin: 'ready',
      },
      {
        backend: 'shop_api',
        backendId: 3,
        name: 'app3',
        serverId: 3,
        address: '127.0.0.3',
        port: 19801,
        operational: 'running',
        admin: 'drain',
      },
      {
        backend: 'shop_api',
        backendId: 3,
        name: 'app4',
        serverId: 4,
        address: '127.0.0.1',
        port: 19801,
        fqdn: 'localhost',
        operational: 'stopped',
        admin: 'maint',
      },
    ]);
  });

  it('finds columns by the header, not by position', () => {
    const text =
      '1\n# srv_port srv_name be_name srv_admin_state be_id srv_op_state srv_id srv_addr\n8080 web1 api 1 7 2 5 10.0.0.11\n';
    expect(parseServersState(text)).toEqual([
      {
        backend: 'api',
        backendId: 7,
        name: 'web1',
        serverId: 5,
        address: '10.0.0.11',
        port: 8080,
        operational: 'running',
        admin: 'maint',
      },
    ]);
  });

  it('an answer without the header or a needed column is an error, not an empty list', () => {
    expect(() => parseServersState("Can't find backend.\n")).toThrow(/no "# be_id be_name/);
    expect(() => parseServersState('1\n# be_id be_name srv_name srv_addr\n')).toThrow(
      /no srv_id, srv_port, srv_op_state, srv_admin_state column/,
    );
  });
});

describe('parseStatJson (recorded HAProxy 2.6 answer)', () => {
  it('reads status, current sessions and the last check of each server', () => {
    expect(parseStatJson(fixture('show-stat.json'))).toEqual([
      { backend: 'shop_api', name: 'app1', status: 'UP', sessions: 0, check: 'Layer7 check passed' },
      { backend: 'shop_api', name: 'app2', status: 'DOWN', sessions: 0, check: 'Layer4 connection problem' },
      { backend: 'shop_api', name: 'app3', status: 'DRAIN', sessions: 0, check: 'Layer7 check passed' },
      { backend: 'shop_api', name: 'app4', status: 'MAINT', sessions: 0 },
    ]);
  });

  it('an error text instead of JSON is an error', () => {
    expect(() => parseStatJson('No such proxy.\n')).toThrow(/not JSON: "No such proxy."/);
  });
});

describe('parseHaproxySocket', () => {
  it.each([
    ['/run/haproxy/admin.sock', { kind: 'unix', path: '/run/haproxy/admin.sock' }],
    ['unix@/run/haproxy/admin.sock', { kind: 'unix', path: '/run/haproxy/admin.sock' }],
    ['tcp://10.0.0.5:9999', { kind: 'tcp', host: '10.0.0.5', port: 9999 }],
    ['ipv4@127.0.0.1:9999', { kind: 'tcp', host: '127.0.0.1', port: 9999 }],
    ['ipv6@[::1]:9999', { kind: 'tcp', host: '::1', port: 9999 }],
    ['lb.internal:9999', { kind: 'tcp', host: 'lb.internal', port: 9999 }],
    ['run/haproxy.sock', { kind: 'unix', path: 'run/haproxy.sock' }],
  ])('%s', (text, expected) => {
    expect(parseHaproxySocket(text)).toMatchObject({ ...expected, text });
  });

  it.each(['tcp://10.0.0.5', 'ipv4@127.0.0.1:99999', 'http://lb:9999', ''])('%j is a config error (exit 2)', (text) => {
    expect(() => parseHaproxySocket(text)).toThrow(expect.objectContaining({ exitCode: 2, code: 'CONFIG' }));
  });
});
