import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { opsctl } from '../helpers/cli.js';
import { createFleetApp, type FleetApp } from '../helpers/fleet-app.js';
import { hostsSkipReason, startHosts, type TestHosts } from '../helpers/hosts.js';
import { hasScript, runOnPty } from '../helpers/pty.js';
import { freePort } from '../helpers/tcp.js';

// What deploy --target tells a user when its preflight fails: a host nothing answers on (connection refused here),
// and the local HAProxy admin socket missing.
const FIXTURE = fileURLToPath(new URL('../fixtures/fleet-app', import.meta.url));

let dir: string;
let socket: string;
let host: string;

describe('deploy --target: the report of a failed preflight', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opsctl-trep-'));
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, 'known_hosts'), '');
    socket = join(dir, 'no-haproxy.sock');
    host = `deploy@127.0.0.1:${await freePort()}`;
    const config = {
      packages: { api: { port: 4100, health: '/health' } },
      targets: {
        production: {
          hosts: [host],
          path: '/srv/shop',
          ssh: { knownHosts: 'known_hosts', connectTimeout: 2 },
          loadBalancer: { haproxy: { socket, backend: 'api' } },
        },
      },
    };
    writeFileSync(join(dir, 'opsctl.config.yaml'), stringify(config));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--json: exit 4; the missing socket is named beside the unreachable host; the plan does not guess what it serves', async () => {
    const res = await opsctl(['-C', dir, 'deploy', '--target', 'production', '--dry-run', '--json'], {
      env: { PM2_HOME: join(dir, 'pm2') },
    });
    expect(res.exitCode, res.stderr).toBe(4);
    const doc = JSON.parse(res.stdout);
    expect(doc.error.code).toBe('HOST_UNREACHABLE');
    expect(doc.loadBalancer.ok).toBe(false);
    expect(doc.loadBalancer.error.message).toContain(socket);
    const steps = doc.hosts[0].steps as Array<{ step: string; status: string; reason?: string }>;
    expect(steps[0]).toMatchObject({ step: 'preflight', status: 'failed' });
    const sw = steps.find((s) => s.step === 'switch');
    expect(sw?.reason).toMatch(/unknown/);
    expect(sw?.reason).not.toMatch(/from nothing/);
  });

  it('without a terminal: the socket named in the text too', async () => {
    const res = await opsctl(['-C', dir, 'deploy', '--target', 'production', '--dry-run'], {
      env: { PM2_HOME: join(dir, 'pm2') },
    });
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain(socket);
    expect(res.stderr).toContain('↓ build here: an earlier step failed');
  });

  it.skipIf(!hasScript)('on a terminal: skipped steps keep their names; the plan is not a green tick', () => {
    const { exitCode, output } = runOnPty(dir, ['deploy', '--target', 'production', '--dry-run'], {
      PM2_HOME: join(dir, 'pm2'),
      NO_COLOR: '1',
    });
    expect(exitCode, output).toBe(4);
    for (const step of ['build here', 'pack and copy to hosts', 'migrate, once, before any host switches'])
      expect(output).toContain(`${step}: an earlier step failed`);
    expect(output).not.toMatch(/^\s*↓ an earlier step failed/m);
    expect(output).not.toMatch(/✔ plan/);
    expect(output).toContain('plan: incomplete');
    expect(output).toContain(socket);
  });
});

const hostsSkip = hostsSkipReason();

describe.skipIf(hostsSkip)('deploy --target: hosts reachable, the HAProxy socket missing', () => {
  let hosts: TestHosts;
  let app: FleetApp;
  beforeAll(async () => {
    hosts = await startHosts(1);
    app = createFleetApp(hosts, join(tmpdir(), `opsctl-no-haproxy-${process.pid}.sock`));
  }, 60_000);
  afterAll(() => {
    hosts?.stop();
    app?.remove();
  });

  for (const args of [['--dry-run'], []]) {
    it(`${args.join(' ') || 'a real deploy'}: exit 4 naming the socket, nothing copied`, async () => {
      const res = await app.run(['deploy', '--target', 'production', '--json', ...args]);
      expect(res.exitCode, res.stderr).toBe(4);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.message).toContain(`opsctl-no-haproxy-${process.pid}.sock`);
      expect(doc.loadBalancer).toMatchObject({ ok: false });
      expect(hosts.exec(hosts.hosts[0]!, ['ls', '-A', '/srv']).stdout.trim()).toBe('');
    }, 60_000);
  }
});
