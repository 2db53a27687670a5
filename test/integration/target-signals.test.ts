import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { spawnOpsctl } from '../helpers/cli.js';
import { createFleetApp, type FleetApp } from '../helpers/fleet-app.js';
import { vethName } from '../helpers/host-subnet.js';
import { hostsSkipReason, startHosts, type TestHosts } from '../helpers/hosts.js';
import { type HungServer, startHungServer } from '../helpers/tcp.js';

// deploy --target with a host that accepts the TCP connection and never speaks (ssh waits for its banner up to
// connectTimeout): Ctrl-C and SIGTERM end the preflight at once, not after the ssh time-out. No namespaces needed.
const FIXTURE = fileURLToPath(new URL('../fixtures/fleet-app', import.meta.url));

let hung: HungServer;
let dir: string;
let tmp: string;

function writeApp(): void {
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, 'known_hosts'), '');
  const config = {
    packages: { api: { port: 4100, health: '/health' } },
    targets: {
      production: {
        hosts: [`deploy@127.0.0.1:${hung.port}`],
        path: '/srv/shop',
        ssh: { knownHosts: 'known_hosts', connectTimeout: 10 },
      },
    },
  };
  writeFileSync(join(dir, 'opsctl.config.yaml'), stringify(config));
}

async function interrupted(args: string[], signal: 'SIGINT' | 'SIGTERM') {
  const { child, output, exited } = spawnOpsctl(['-C', dir, 'deploy', '--target', 'production', '--json', ...args], {
    PM2_HOME: join(tmp, 'pm2'),
    TMPDIR: tmp,
  });
  try {
    const before = hung.connections();
    // ssh reached the host and waits for its banner: the preflight is under way
    const deadline = Date.now() + 20_000;
    while (hung.connections() === before) {
      if (Date.now() > deadline) throw new Error(`ssh never connected: ${output.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    child.kill(signal);
    const code = await exited;
    return { code, ms: Date.now() - sent, ...output };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('deploy --target: a signal during the preflight of a host that never answers', () => {
  beforeAll(async () => {
    hung = await startHungServer();
  });
  afterAll(async () => {
    await hung?.close();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  for (const [signal, code, name] of [
    ['SIGINT', 130, 'INTERRUPTED'],
    ['SIGTERM', 143, 'TERMINATED'],
  ] as const) {
    for (const args of [['--dry-run'], []]) {
      it(`${signal}${args.length ? ' with --dry-run' : ''}: exit ${code} at once (${name}), ssh stopped, nothing left in TMPDIR`, async () => {
        dir = mkdtempSync(join(tmpdir(), 'opsctl-tsig-app-'));
        tmp = mkdtempSync(join(tmpdir(), 'opsctl-tsig-tmp-'));
        writeApp();
        const res = await interrupted(args, signal);
        expect(res.code, res.stderr).toBe(code);
        // well inside ssh's 10 s connect time-out
        expect(res.ms).toBeLessThan(4_000);
        const doc = JSON.parse(res.stdout);
        expect(doc.error.code).toBe(name);
        expect(doc.hosts[0].steps.find((s: { step: string }) => s.step === 'switch')).toBeUndefined();
        // the ssh client was ended: the connection it held is closed; its ControlPath folder removed
        const deadline = Date.now() + 3_000;
        while (hung.openSockets() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        expect(hung.openSockets()).toBe(0);
        expect(readdirSync(tmp).filter((f) => f.startsWith('opsctl-'))).toEqual([]);
      }, 40_000);
    }
  }
});

const hostsSkip = hostsSkipReason();

describe.skipIf(hostsSkip)('deploy --target: a signal during the copy', () => {
  let hosts: TestHosts;
  let fleet: FleetApp;
  let copyTmp: string;
  beforeAll(async () => {
    hosts = await startHosts(1);
    fleet = createFleetApp(hosts);
    copyTmp = mkdtempSync(join(tmpdir(), 'opsctl-tsig-copy-'));
    // a slow link to the host (2 Mbit/s): the copy of opsctl's agent takes many seconds
    const tc = spawnSync('tc', [
      'qdisc',
      'add',
      'dev',
      vethName(hosts.subnet, 0),
      'root',
      'tbf',
      'rate',
      '2mbit',
      'burst',
      '32kbit',
      'latency',
      '2s',
    ]);
    expect(tc.status, tc.stderr?.toString()).toBe(0);
  }, 60_000);
  afterAll(() => {
    hosts?.stop();
    fleet?.remove();
    if (copyTmp) rmSync(copyTmp, { recursive: true, force: true });
  });

  it('SIGINT while the archives are copied: exit 130 within seconds, nothing switched, lock, ssh and temp folders gone', async () => {
    const host = hosts.hosts[0]!;
    const { child, output, exited } = spawnOpsctl(['-C', fleet.dir, 'deploy', '--target', 'production', '--json'], {
      PM2_HOME: undefined,
      TMPDIR: copyTmp,
    });
    let ms = 0;
    let code: number | null;
    try {
      // a copy is under way: its temp file exists on the host
      const deadline = Date.now() + 90_000;
      while (!/\.tmp-/.test(hosts.exec(host, ['ls', '-A', '/srv/shop/.opsctl/archives']).stdout)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no copy seen: ${output.stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const sent = Date.now();
      child.kill('SIGINT');
      code = await exited;
      ms = Date.now() - sent;
    } finally {
      child.kill('SIGKILL');
    }
    expect(code, output.stderr).toBe(130);
    expect(ms).toBeLessThan(6_000);
    const doc = JSON.parse(output.stdout);
    expect(doc.error.code).toBe('INTERRUPTED');
    expect(doc.hosts[0].steps.map((s: { step: string }) => s.step)).not.toContain('switch');
    // nothing switched; the host's lock given back
    expect(hosts.exec(host, ['ls', '-A', '/srv/shop']).stdout.trim()).toBe('.opsctl');
    expect(hosts.exec(host, ['ls', '-A', '/srv/shop/.opsctl']).stdout).not.toMatch(/lock|serving/);
    // no ssh client or ControlMaster of that run left, and no opsctl-ssh-/opsctl-ship- folder
    const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
    expect(ps.split('\n').filter((l) => l.startsWith('ssh') && l.includes(copyTmp))).toEqual([]);
    expect(readdirSync(copyTmp).filter((f) => f.startsWith('opsctl-'))).toEqual([]);
  }, 120_000);
});
