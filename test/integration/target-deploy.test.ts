import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendHaproxyCommand } from '../../src/lb/haproxy-socket.js';
import { BIN } from '../helpers/cli.js';
import { APP_PORT, createFleetApp, type FleetApp, hostVersions, SECRET, targetOf } from '../helpers/fleet-app.js';
import { hasHaproxy, NO_HAPROXY_REASON, startHaproxy, type TestHaproxy } from '../helpers/haproxy.js';
import { hostsSkipReason, startHosts, type TestHosts } from '../helpers/hosts.js';

const skip = hostsSkipReason() ?? (hasHaproxy() ? undefined : NO_HAPROXY_REASON);
if (skip) console.warn(`target-deploy: skipped: ${skip}`);

let hosts: TestHosts;
let haproxy: TestHaproxy;
let app: FleetApp;
const outputs: string[] = [];

const versions = () => hostVersions(hosts);

/** A client through HAProxy every 50 ms while `fn` runs: requests that failed and versions seen. */
async function polling<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; failed: string[]; seen: Set<string>; total: number }> {
  const failed: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      total++;
      try {
        const res = await fetch(`http://127.0.0.1:${haproxy.port}/`, { signal: AbortSignal.timeout(3_000) });
        const text = (await res.text()).trim();
        if (res.status !== 200) failed.push(`${res.status} ${text.slice(0, 80)}`);
        else seen.add(text);
      } catch (error) {
        failed.push(String(error));
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const result = await fn();
    return { result, failed, seen, total };
  } finally {
    running = false;
    await loop;
  }
}

async function deploy(args: string[] = []) {
  const res = await app.run(['deploy', '--target', 'production', '--json', ...args]);
  outputs.push(res.stdout, res.stderr);
  return { ...res, doc: JSON.parse(res.stdout) };
}

describe.skipIf(skip)('deploy --target over three hosts behind HAProxy', () => {
  beforeAll(async () => {
    hosts = await startHosts(3);
    haproxy = await startHaproxy({
      backends: { api: hosts.hosts.map((h, i) => ({ name: `h${i}`, address: h.address, port: APP_PORT })) },
    });
    app = createFleetApp(hosts, haproxy.socket);
  }, 60_000);
  afterAll(async () => {
    await haproxy?.stop();
    hosts?.stop();
    app?.remove();
  });

  it('--dry-run shows the plan per host and changes nothing', async () => {
    const { exitCode, doc } = await deploy(['--dry-run']);
    expect(exitCode).toBe(0);
    expect(doc.dryRun).toBe(true);
    expect(doc.hosts.map((h: { host: string }) => h.host)).toEqual(hosts.hosts.map((h) => h.destination));
    for (const host of doc.hosts) {
      expect(host.steps.find((s: { step: string }) => s.step === 'preflight').status).toBe('done');
      expect(host.steps.find((s: { step: string }) => s.step === 'switch')).toMatchObject({ status: 'skipped' });
    }
    for (const h of hosts.hosts) expect(hosts.exec(h, ['ls', '-A', '/srv']).stdout.trim()).toBe('');
  });

  it('a first deploy puts v1 on every host, each UP in HAProxy', async () => {
    const { exitCode, doc, stderr } = await deploy();
    expect(exitCode, stderr).toBe(0);
    expect(doc.hosts.every((h: { ok: boolean }) => h.ok)).toBe(true);
    expect(await versions()).toEqual(['v1', 'v1', 'v1']);
  });

  it('a good rolling deploy: no failed request through HAProxy, every host on v2', async () => {
    app.setVersion('v2');
    const { result, failed, seen, total } = await polling(() => deploy());
    expect(result.exitCode, result.stderr).toBe(0);
    expect(failed).toEqual([]);
    expect(total).toBeGreaterThan(20);
    expect(seen).toEqual(new Set(['v1', 'v2']));
    expect(await versions()).toEqual(['v2', 'v2', 'v2']);
    for (const host of result.doc.hosts)
      expect(host.steps.map((s: { step: string }) => s.step)).toEqual([
        'preflight',
        'copy',
        'ports',
        'drain',
        'switch',
        'ready',
      ]);
  });

  it('a release failing on the second host: exit 3, every host back on v2, no failed request', async () => {
    app.setVersion('v3');
    expect(hosts.exec(hosts.hosts[1]!, ['touch', '/srv/fail-v3']).status).toBe(0);
    const { result, failed } = await polling(() => deploy());
    expect(result.exitCode, result.stderr).toBe(3);
    expect(failed).toEqual([]);
    expect(await versions()).toEqual(['v2', 'v2', 'v2']);
    const [first, second, third] = result.doc.hosts;
    expect(first).toMatchObject({ ok: false, rolledBack: true });
    expect(second.steps.find((s: { step: string }) => s.step === 'switch').status).toBe('failed');
    expect(third.steps.map((s: { step: string }) => s.step)).toEqual(['preflight', 'copy', 'ports']);
    expect(result.doc.error.message).toContain(hosts.hosts[1]!.address);
  });

  it('maxUnavailable 2: two hosts at a time, still no failed request', async () => {
    app.setVersion('v4');
    app.setTargets({
      production: {
        ...targetOf(
          hosts,
          hosts.hosts.map((h) => h.destination),
          hosts.knownHosts,
          haproxy.socket,
        ),
        maxUnavailable: 2,
      },
    });
    const { result, failed } = await polling(async () => {
      let maxInMaint = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const csv = await sendHaproxyCommand(
            { kind: 'unix', path: haproxy.socket, text: haproxy.socket },
            'show stat',
            1_000,
          );
          const maint = csv.split('\n').filter((l) => l.startsWith('api,h') && l.split(',')[17]?.startsWith('MAINT'));
          maxInMaint = Math.max(maxInMaint, maint.length);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const res = await deploy().finally(() => (watching = false));
      await watch;
      return { ...res, maxInMaint };
    });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(failed).toEqual([]);
    expect(await versions()).toEqual(['v4', 'v4', 'v4']);
    // two hosts were out of rotation at once (HAProxy saw two servers in maintenance), never three
    expect(result.maxInMaint).toBe(2);
    // old archives pruned: the app now serving (v4), the one before (v2, what a rollback unpacks), opsctl's agent
    for (const h of hosts.hosts) {
      const archives = hosts.exec(h, ['ls', '/srv/shop/.opsctl/archives']).stdout.trim().split('\n');
      expect(archives).toHaveLength(3);
      expect(archives).toContain(`${hosts.exec(h, ['cat', '/srv/shop/.opsctl/serving']).stdout.trim()}.tgz`);
      expect(hosts.exec(h, ['ls', '/srv/shop/.opsctl/agent']).stdout.trim().split('\n')).toHaveLength(1);
    }
  });

  it('Ctrl-C during the roll-out: the host being switched finishes, then goes back; exit 130, every host on v4', async () => {
    app.setVersion('v5');
    const before = hosts.exec(hosts.hosts[0]!, ['cat', '/srv/shop/.opsctl/serving']).stdout;
    const child = spawn(process.execPath, [BIN, '-C', app.dir, 'deploy', '--target', 'production', '--json'], {
      env: { ...process.env, NO_COLOR: '1', PM2_HOME: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    try {
      // the first host's app tree was replaced: its switch is under way
      const deadline = Date.now() + 60_000;
      while (hosts.exec(hosts.hosts[0]!, ['cat', '/srv/shop/.opsctl/serving']).stdout === before) {
        if (Date.now() > deadline) throw new Error(`the first host never switched: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGINT');
      expect(await exited).toBe(130);
    } finally {
      child.kill('SIGKILL');
    }
    outputs.push(stdout, stderr);
    const doc = JSON.parse(stdout);
    expect(doc.error.code).toBe('INTERRUPTED');
    expect(doc.hosts[0]).toMatchObject({ rolledBack: true });
    expect(await versions()).toEqual(['v4', 'v4', 'v4']);
  });

  it('status --target: per host the instances, release and HAProxy state', async () => {
    const res = await app.run(['status', '--target', 'production', '--json']);
    outputs.push(res.stdout, res.stderr);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.hosts.map((h: { host: string }) => h.host)).toEqual(hosts.hosts.map((h) => h.destination));
    for (const [i, host] of doc.hosts.entries()) {
      expect(host.ok).toBe(true);
      const api = host.packages.find((p: { name: string }) => p.name === 'api');
      expect(api.instances).toHaveLength(1);
      expect(api.instances[0].state).toBe('online');
      expect(host.loadBalancer).toEqual([
        expect.objectContaining({
          backend: 'api',
          name: `h${i}`,
          status: 'UP',
          address: `${hosts.hosts[i]!.address}:${APP_PORT}`,
        }),
      ]);
    }
  });

  it("scale --target sets the count on every host; logs --target shows each host's lines", async () => {
    const scaled = await app.run(['scale', 'api', '2', '--target', 'production', '--json']);
    outputs.push(scaled.stdout, scaled.stderr);
    expect(scaled.exitCode, scaled.stderr).toBe(0);
    expect(JSON.parse(scaled.stdout).hosts.map((h: { to: number }) => h.to)).toEqual([2, 2, 2]);
    for (const h of hosts.hosts) {
      const ps = hosts.exec(h, [
        'sh',
        '-c',
        'ps -eo args | grep -c "^node /srv/shop/app/.opsctl/releases/api/current/server.js"',
      ]);
      expect(Number(ps.stdout.trim())).toBeGreaterThanOrEqual(2);
    }
    const logs = await app.run(['logs', 'api', '--target', 'production', '--lines', '20']);
    outputs.push(logs.stdout, logs.stderr);
    expect(logs.exitCode, logs.stderr).toBe(0);
    for (const h of hosts.hosts) expect(logs.stdout).toContain(`── ${h.destination}`);
    expect(logs.stdout.match(/api v4 listening/g)?.length).toBeGreaterThanOrEqual(3);
    const follow = await app.run(['logs', '--target', 'production', '--follow', '--json']);
    expect(follow.exitCode).toBe(2);
    expect(JSON.parse(follow.stdout).error.message).toMatch(/--follow/);
  });

  it('doctor --target runs the checks on each host', async () => {
    const res = await app.run(['doctor', '--target', 'production', '--only', 'node-version', '--json']);
    outputs.push(res.stdout, res.stderr);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.hosts).toHaveLength(3);
    for (const host of doc.hosts)
      expect(host.checks).toEqual([expect.objectContaining({ id: 'node-version', status: 'pass' })]);
  });

  it('stop and start --target act on every host', async () => {
    const stopped = await app.run(['stop', '--target', 'production', '--json']);
    outputs.push(stopped.stdout, stopped.stderr);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout).hosts.every((h: { ok: boolean }) => h.ok)).toBe(true);
    expect(await versions()).toEqual(['', '', '']);
    const started = await app.run(['start', '--target', 'production', '--json']);
    outputs.push(started.stdout, started.stderr);
    expect(started.exitCode, started.stderr).toBe(0);
    expect(await versions()).toEqual(['v4', 'v4', 'v4']);
  });

  it('a port of the new release taken on one host stops the deploy before any host switches (exit 3)', async () => {
    app.setVersion('v5');
    const config = readFileSync(join(app.dir, 'opsctl.config.yaml'), 'utf8');
    writeFileSync(join(app.dir, 'opsctl.config.yaml'), config.replace(`port: ${APP_PORT}`, 'port: 4200'));
    const squatter = "require('net').createServer().listen(4200, '0.0.0.0')";
    expect(hosts.exec(hosts.hosts[2]!, ['sh', '-c', 'node -e "$1" >/dev/null 2>&1 &', 'sh', squatter]).status).toBe(0);
    await new Promise((r) => setTimeout(r, 500));
    const servingBefore = hosts.hosts.map((h) => hosts.exec(h, ['cat', '/srv/shop/.opsctl/serving']).stdout);
    const { exitCode, doc } = await deploy();
    expect(exitCode).toBe(3);
    expect(doc.error.message).toContain(`${hosts.hosts[2]!.address}: port 4200 is in use`);
    expect(doc.hosts[2].steps.find((s: { step: string }) => s.step === 'ports').status).toBe('failed');
    for (const host of doc.hosts) expect(host.steps.map((s: { step: string }) => s.step)).not.toContain('switch');
    expect(hosts.hosts.map((h) => hosts.exec(h, ['cat', '/srv/shop/.opsctl/serving']).stdout)).toEqual(servingBefore);
    expect(await versions()).toEqual(['v4', 'v4', 'v4']);
    writeFileSync(join(app.dir, 'opsctl.config.yaml'), config);
  });

  it('an unreachable host stops the deploy before anything changes (exit 4)', async () => {
    app.setVersion('v5');
    app.setTargets({
      production: targetOf(
        hosts,
        [hosts.hosts[0]!.destination, `root@${hosts.unreachable}`],
        hosts.knownHosts,
        haproxy.socket,
      ),
    });
    const before = hosts.exec(hosts.hosts[0]!, ['cat', '/srv/shop/.opsctl/serving']).stdout;
    const { exitCode, doc } = await deploy();
    expect(exitCode).toBe(4);
    expect(doc.error.message).toContain(hosts.unreachable);
    expect(hosts.exec(hosts.hosts[0]!, ['cat', '/srv/shop/.opsctl/serving']).stdout).toBe(before);
    expect(await versions()).toEqual(['v4', 'v4', 'v4']);
    // status still reports the host it reaches, and the one it does not
    const status = await app.run(['status', '--target', 'production', '--json']);
    outputs.push(status.stdout, status.stderr);
    expect(status.exitCode).toBe(4);
    const [reached, unreachable] = JSON.parse(status.stdout).hosts;
    expect(reached).toMatchObject({ ok: true, packages: [expect.objectContaining({ name: 'api' })] });
    expect(unreachable).toMatchObject({ ok: false, exitCode: 4, error: { code: 'HOST_UNREACHABLE' } });
  });

  it('a changed host key stops the deploy before anything changes (exit 4, how to verify)', async () => {
    const knownHosts = join(hosts.dir, 'known_hosts_changed');
    const [h0, h1] = hosts.hosts;
    // h1 recorded with h0's key: what a reinstalled host (or a man in the middle) looks like
    writeFileSync(
      knownHosts,
      `${h0!.knownHostsLine}\n${h1!.address} ${h0!.knownHostsLine.split(' ').slice(1).join(' ')}\n`,
    );
    app.setTargets({ production: targetOf(hosts, [h0!.destination, h1!.destination], knownHosts, haproxy.socket) });
    const { exitCode, doc } = await deploy();
    expect(exitCode).toBe(4);
    expect(doc.error.code).toBe('HOST_KEY_CHANGED');
    expect(doc.error.message).toContain(h1!.destination);
    expect(doc.error.hint).toContain('ssh-keyscan');
    expect(await versions()).toEqual(['v4', 'v4', 'v4']);
    expect(existsSync(knownHosts)).toBe(true);
  });

  it('never printed the private key or a .env value', () => {
    const key = readFileSync(hosts.identityFile, 'utf8');
    const lines = key.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
    expect(lines.length).toBeGreaterThan(0);
    expect(outputs.length).toBeGreaterThan(10);
    for (const text of outputs) {
      expect(text).not.toContain(SECRET);
      for (const line of lines) expect(text).not.toContain(line);
    }
  });
});
