import { afterEach, describe, expect, it } from 'vitest';
import { formatCommandLine } from '../../src/net/command-line.js';
import { parseInspectFlags } from '../../src/net/inspect-flags.js';
import { parseLsofFields, parseSsListen } from '../../src/net/tool-output.js';
import { addSecret, clearSecrets } from '../../src/output/redact.js';

afterEach(() => clearSecrets());

describe('parseInspectFlags', () => {
  it.each([
    [['--inspect'], { host: '127.0.0.1', port: 9229 }],
    [['--inspect-brk=9230'], { host: '127.0.0.1', port: 9230 }],
    [['--inspect=0.0.0.0'], { host: '0.0.0.0', port: 9229 }],
    [['--inspect=0.0.0.0:9333', 'app.js'], { host: '0.0.0.0', port: 9333 }],
    [['--inspect=[::]:9333'], { host: '::', port: 9333 }],
    [['--inspect-wait=0'], { host: '127.0.0.1', port: 0 }],
    [['--inspect', '--inspect-port=0.0.0.0:9400'], { host: '0.0.0.0', port: 9400 }],
  ])('%j → %j', (args, expected) => expect(parseInspectFlags(args)).toMatchObject(expected));

  it('ignores processes without the flag and flags after "--"', () => {
    expect(parseInspectFlags(['server.js'])).toBeUndefined();
    expect(parseInspectFlags(['-e', 'x', '--', '--inspect'])).toBeUndefined();
  });

  it("reads only node's own options: after the script, --inspect is an argument of the app", () => {
    expect(parseInspectFlags(['server.js', '--inspect=0.0.0.0:9229'])).toBeUndefined();
    expect(parseInspectFlags(['-r', '--inspect', 'server.js'])).toBeUndefined(); // -r's value is a module name
    expect(parseInspectFlags(['-e', 'code', '--inspect=9300'])).toMatchObject({ port: 9300, atStart: true });
  });

  it('--inspect-port alone names the port of an inspector opened at run time', () => {
    expect(parseInspectFlags(['--inspect-port=9300'])).toEqual({
      host: '127.0.0.1',
      port: 9300,
      flag: '--inspect-port=9300',
      atStart: false,
    });
  });
});

describe('formatCommandLine', () => {
  it('masks secret flags, secret assignments, URL passwords and known secrets', () => {
    addSecret('sk_live_abcdef');
    const text = formatCommandLine([
      'node',
      'server.js',
      '--password',
      'hunter2',
      '--db-token=tok123',
      'DB_PASSWORD=pw9',
      'postgres://u:pgpass@db/x',
      'sk_live_abcdef',
      'two words',
    ]);
    expect(text).toBe(
      'node server.js --password **** --db-token=**** DB_PASSWORD=**** postgres://u:****@db/x **** "two words"',
    );
  });

  it('cuts very long command lines', () => {
    const text = formatCommandLine(['node', 'x'.repeat(500)]);
    expect(text).toHaveLength(200);
    expect(text.endsWith('…')).toBe(true);
  });
});

describe('lsof and ss output', () => {
  it('parses lsof -F fields across processes', () => {
    expect(parseLsofFields('p1\ncnode\nf3\nn127.0.0.1:80\np2\ncnginx\nf4\nn*:443\nf5\nn[::]:443\n')).toEqual([
      { address: '127.0.0.1', port: 80, pid: 1, name: 'node' },
      { address: '0.0.0.0', port: 443, pid: 2, name: 'nginx' },
      { address: '::', port: 443, pid: 2, name: 'nginx' },
    ]);
  });

  it('parses ss -ltnp with and without process info', () => {
    const text = [
      'State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process',
      'LISTEN 0 511 [::]:9229 [::]:* users:(("node",pid=9,fd=3))',
      'LISTEN 0 4096 127.0.0.53%lo:53 0.0.0.0:*',
    ].join('\n');
    expect(parseSsListen(text)).toEqual([
      { address: '::', port: 9229, pid: 9, name: 'node' },
      { address: '127.0.0.53', port: 53, pid: undefined, name: undefined },
    ]);
  });
});
