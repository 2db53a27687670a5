import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { portCheck } from '../../src/checks/port.js';
import { isLoopback } from '../../src/net/address.js';
import { listListeners } from '../../src/net/listeners.js';
import { parseProcNetTcp } from '../../src/net/proc-net.js';
import { appPackage, checkContext } from '../helpers/check-context.js';
import { fakeRunner } from '../helpers/fake-runner.js';

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const TCP =
  HEADER +
  '   0: 0100007F:0FA0 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000 100 0 0 10 0\n' +
  '   1: 00000000:2406 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000 100 0 0 10 0\n' +
  '   2: 0100007F:0FA0 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000  1000        0 333 1 0000 20 4 30 10 -1\n' +
  '   3: 0501A8C0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0000 100 0 0 10 0\n';
const TCP6 =
  HEADER +
  '   0: 00000000000000000000000000000000:2406 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 555 1 0000\n' +
  '   1: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 666 1 0000\n' +
  '   2: 0000000000000000FFFF00000100007F:0BB8 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 777 1 0000\n' +
  '   3: B80D0120000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 888 1 0000\n';

describe('parseProcNetTcp', () => {
  it('keeps LISTEN sockets and decodes little-endian IPv4 addresses and big-endian ports', () => {
    expect(parseProcNetTcp(TCP, 4, true)).toEqual([
      { address: '127.0.0.1', port: 4000, inode: 111, family: 4 },
      { address: '0.0.0.0', port: 9222, inode: 222, family: 4 },
      { address: '192.168.1.5', port: 8080, inode: 444, family: 4 },
    ]);
  });

  it('decodes IPv6: wildcard, loopback, IPv4-mapped and a global address', () => {
    expect(parseProcNetTcp(TCP6, 6, true).map((s) => [s.address, s.port, s.inode])).toEqual([
      ['::', 9222, 555],
      ['::1', 8080, 666],
      ['::ffff:127.0.0.1', 3000, 777],
      ['2001:db8::1', 80, 888],
    ]);
  });

  it('decodes big-endian hosts too', () => {
    expect(
      parseProcNetTcp(`${HEADER}   0: 7F000001:0FA0 00000000:0000 0A 0 0 0 0 0 0 111 1\n`, 4, false)[0]?.address,
    ).toBe('127.0.0.1');
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.5', false],
    ['::ffff:10.0.0.1', false],
  ])('%s → %s', (address, expected) => expect(isLoopback(address)).toBe(expected));
});

describe('listListeners and portCheck over a fake /proc', () => {
  let proc: string;

  beforeAll(() => {
    proc = mkdtempSync(join(tmpdir(), 'opsctl-proc-'));
    mkdirSync(join(proc, 'net'));
    writeFileSync(join(proc, 'net/tcp'), TCP);
    writeFileSync(join(proc, 'net/tcp6'), HEADER);
    // PID 300 holds socket 111 (port 4000) on fd 7; PID 42 holds only a pipe
    for (const [pid, target, cmdline] of [
      [300, 'socket:[111]', 'node\0server.js\0--api-key\0abc123secret\0'],
      [42, 'pipe:[999]', 'bash\0'],
    ] as const) {
      mkdirSync(join(proc, String(pid), 'fd'), { recursive: true });
      symlinkSync(target, join(proc, String(pid), 'fd', '7'));
      writeFileSync(join(proc, String(pid), 'cmdline'), cmdline);
    }
  });
  afterAll(() => rmSync(proc, { recursive: true, force: true }));

  const ctx = () => checkContext({}, { runner: fakeRunner({}), timeoutMs: 1000 });
  const pkg = (port: number) => appPackage({ name: 'api', dir: '/srv/api', port });

  it('maps socket inodes to PIDs through fd links', async () => {
    expect(await listListeners({ runner: fakeRunner({}), procRoot: proc })).toEqual([
      { address: '127.0.0.1', port: 4000, pid: 300 },
      { address: '0.0.0.0', port: 9222, pid: undefined },
      { address: '192.168.1.5', port: 8080, pid: undefined },
    ]);
  });

  it('names the holder with its command line, secret argument masked', async () => {
    const result = await portCheck(pkg(4000), { procRoot: proc }).run(ctx());
    expect(result).toMatchObject({
      status: 'fail',
      message: 'port 4000 is in use by PID 300 (node server.js --api-key ****)',
      hint: 'Stop it (kill 300) or change packages.api.port in opsctl.config.yaml.',
    });
  });

  it('says when the holder is invisible to this user', async () => {
    const result = await portCheck(pkg(9222), { procRoot: proc }).run(ctx());
    expect(result.message).toBe('port 9222 is in use by a process this user cannot see');
    expect(result.hint).toContain('ss -ltnp');
  });

  it('falls back to lsof, then ss, where /proc is missing', async () => {
    const missing = join(proc, 'nope');
    const lsof = fakeRunner({
      'lsof -nP -iTCP:4000 -sTCP:LISTEN -Fpcn': { stdout: 'p812\ncnode\nf21\nn*:4000\nf22\nn[::1]:4000\n' },
      'ps -ww -o args= -p 812': { stdout: 'node dist/main.js' },
    });
    const viaLsof = await portCheck(pkg(4000), { procRoot: missing }).run({ ...ctx(), runner: lsof });
    expect(viaLsof.message).toBe('port 4000 is in use by PID 812 (node dist/main.js)');
    expect(viaLsof.details).toEqual(['PID 812 (node dist/main.js) listening on 0.0.0.0, ::1']);

    const ss = fakeRunner({
      'lsof -nP -iTCP:4000 -sTCP:LISTEN -Fpcn': { notFound: true, exitCode: 127 },
      'ss -ltnp': {
        stdout:
          'State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n' +
          'LISTEN 0      511        127.0.0.1:4000      0.0.0.0:*    users:(("node",pid=77,fd=20))\n' +
          'LISTEN 0      511        127.0.0.1:5432      0.0.0.0:*\n',
      },
      'ps -ww -o args= -p 77': { exitCode: 1 },
    });
    expect((await portCheck(pkg(4000), { procRoot: missing }).run({ ...ctx(), runner: ss })).message).toBe(
      'port 4000 is in use by PID 77',
    );

    const none = fakeRunner({
      'lsof -nP -iTCP:4000 -sTCP:LISTEN -Fpcn': { notFound: true, exitCode: 127 },
      'ss -ltnp': { notFound: true, exitCode: 127 },
    });
    expect((await portCheck(pkg(4000), { procRoot: missing }).run({ ...ctx(), runner: none })).status).toBe('warn');
  });
});
