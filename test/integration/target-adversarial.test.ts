import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireAppLock } from '../../src/app/app-lock.js';
import { readServers } from '../../src/lb/haproxy-runtime.js';
import { opsctl } from '../helpers/cli.js';
import { APP_PORT, createFleetApp, type FleetApp, hostVersions, SECRET, targetOf } from '../helpers/fleet-app.js';
import { hasHaproxy, NO_HAPROXY_REASON, startHaproxy, type TestHaproxy } from '../helpers/haproxy.js';
import { hostsSkipReason, startHosts, type TestHosts } from '../helpers/hosts.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';

// deploy --target as an on-call engineer breaks it: a host's disk full during the copy, HAProxy's socket gone in the
// middle of a roll-out, two deploys at once. Two hosts behind HAProxy, a real PostgreSQL for the migrations.
const skip = hostsSkipReason() ?? (hasHaproxy() ? undefined : NO_HAPROXY_REASON);
if (skip) console.warn(`target-adversarial: skipped: ${skip}`);

let hosts: TestHosts;
let haproxy: TestHaproxy;
let postgres: TestPostgres;
let app: FleetApp;
const outputs: string[] = [];

const ARCHIVES = '/srv/shop/.opsctl/archives';

const versions = () => hostVersions(hosts);

const serving = () => hosts.hosts.map((h) => hosts.exec(h, ['cat', '/srv/shop/.opsctl/serving']).stdout);

async function tableExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    return (await client.query('select to_regclass($1) as t', [name])).rows[0].t !== null;
  } finally {
    await client.end();
  }
}

/** Every HAProxy server of the backend with its status (all should be UP between tests). */
async function lbStatus(): Promise<string[]> {
  return (await readServers(haproxy.socket, 'api')).map((s) => `${s.name} ${s.status}`);
}

async function deploy(args: string[] = []) {
  const res = await app.run(['deploy', '--target', 'production', '--json', ...args]);
  outputs.push(res.stdout, res.stderr);
  return { ...res, doc: JSON.parse(res.stdout) };
}

function addMigration(name: string, sql: string): void {
  mkdirSync(join(app.dir, 'migrations'), { recursive: true });
  writeFileSync(join(app.dir, 'migrations', `${name}.sql`), sql);
}

describe.skipIf(skip)('deploy --target under an on-call engineer', () => {
  beforeAll(async () => {
    [hosts, postgres] = await Promise.all([startHosts(2), startTestPostgres()]);
    haproxy = await startHaproxy({
      backends: { api: hosts.hosts.map((h, i) => ({ name: `h${i}`, address: h.address, port: APP_PORT })) },
    });
    app = createFleetApp(hosts, haproxy.socket, { env: { DATABASE_URL: postgres.url } });
    addMigration('0001_first', 'create table first_t (id int);\n');
  }, 120_000);
  afterAll(async () => {
    await haproxy?.stop();
    hosts?.stop();
    await postgres?.stop();
    app?.remove();
  });

  it('a first deploy: v1 on both hosts, the migration applied once, here', async () => {
    const { exitCode, stderr } = await deploy();
    expect(exitCode, stderr).toBe(0);
    expect(await versions()).toEqual(['v1', 'v1']);
    expect(await tableExists('first_t')).toBe(true);
    // the app archive holds the .env: readable by the deploy user only, whatever the host's umask
    for (const h of hosts.hosts) {
      const modes = hosts
        .exec(h, ['sh', '-c', 'stat -c %a /srv/shop/.opsctl/archives/*.tgz'])
        .stdout.trim()
        .split('\n');
      expect(modes).toEqual(['600', '600']);
    }
  });

  it("a host's disk full during the copy: exit 3, nothing switched, no partial archive left, no migration applied", async () => {
    app.setVersion('v2');
    addMigration('0002_second', 'create table second_t (id int);\n');
    const before = serving();
    const full = hosts.hosts[1]!;
    // a 256 KB file system where the archives go: preflight sees room under the path, the copy runs out of it
    expect(hosts.exec(full, ['mount', '-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', ARCHIVES]).status).toBe(0);
    try {
      const { exitCode, doc } = await deploy();
      expect(exitCode).toBe(3);
      expect(doc.error.message).toContain(full.destination);
      expect(hosts.exec(full, ['ls', '-A', ARCHIVES]).stdout.trim()).toBe('');
    } finally {
      hosts.exec(full, ['umount', ARCHIVES]);
    }
    expect(serving()).toEqual(before);
    expect(await versions()).toEqual(['v1', 'v1']);
    expect(await lbStatus()).toEqual(['h0 UP', 'h1 UP']);
    // the release never reached every host: the database is as the serving release expects it
    expect(await tableExists('second_t')).toBe(false);
  });

  it("HAProxy's socket gone in the middle of the roll-out: the host already switched still goes back", async () => {
    app.setVersion('v3');
    expect(hosts.exec(hosts.hosts[1]!, ['touch', '/srv/fail-v3']).status).toBe(0);
    const before = serving();
    const away = `${haproxy.socket}.away`;
    let moved = false;
    const watch = (async () => {
      // the second host's app tree replaced: the first host is switched and back UP
      while (!moved) {
        if (serving()[1] !== before[1]) {
          renameSync(haproxy.socket, away);
          moved = true;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      const { exitCode, doc } = await deploy();
      moved = true;
      await watch;
      expect(exitCode).toBe(3);
      expect(await versions()).toEqual(['v1', 'v1']);
      expect(doc.hosts[0]).toMatchObject({ rolledBack: true });
      // what could not be done on HAProxy is told per host
      expect(doc.hosts[1].steps.find((s: { step: string }) => s.step === 'ready')).toMatchObject({ status: 'failed' });
      expect(doc.hosts[0].steps.filter((s: { step: string }) => s.step === 'drain').at(-1)).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/went back in rotation/),
      });
    } finally {
      moved = true;
      await watch;
      if (existsSync(away)) renameSync(away, haproxy.socket);
      hosts.exec(hosts.hosts[1]!, ['rm', '-f', '/srv/fail-v3']);
    }
  });

  it('two deploys at once from two checkouts: every host ends on one release, all UP in HAProxy', async () => {
    const other = createFleetApp(hosts, haproxy.socket, { env: { DATABASE_URL: postgres.url } });
    try {
      cpSync(join(app.dir, 'migrations'), join(other.dir, 'migrations'), { recursive: true });
      app.setVersion('v4a');
      other.setVersion('v4b');
      const [a, b] = await Promise.all([
        app.run(['deploy', '--target', 'production', '--json']),
        other.run(['deploy', '--target', 'production', '--json']),
      ]);
      outputs.push(a.stdout, a.stderr, b.stdout, b.stderr);
      for (const res of [a, b]) expect(() => JSON.parse(res.stdout)).not.toThrow();
      const now = await versions();
      expect(
        new Set(now).size,
        `${now}; a: ${a.exitCode} ${a.stdout.slice(-600)}; b: ${b.exitCode} ${b.stdout.slice(-600)}`,
      ).toBe(1);
      expect(await lbStatus()).toEqual(['h0 UP', 'h1 UP']);
      // at least one of them went through; one that did not says another deploy holds the hosts (exit 5)
      expect([a.exitCode, b.exitCode]).toContain(0);
      for (const res of [a, b]) if (res.exitCode !== 0) expect(res.exitCode, res.stdout.slice(-800)).toBe(5);
      // the locks are given back
      for (const h of hosts.hosts) expect(hosts.exec(h, ['ls', '-A', '/srv/shop/.opsctl']).stdout).not.toMatch(/lock/);
    } finally {
      other.remove();
    }
  });

  it("a host held by another machine's deploy: exit 5 naming it, nothing changed; a killed deploy's lock is taken over", async () => {
    const h1 = hosts.hosts[1]!;
    const lock = '/srv/shop/.opsctl/deploy-target.lock';
    const owner = 'opsctl deploy --target (pid 4242 on laptop-of-ann, ann, since 2026-01-01T00:00:00.000Z)';
    expect(
      hosts.exec(h1, ['sh', '-c', 'mkdir "$1" && printf "t0\\n%s\\n" "$2" > "$1/owner"', 'sh', lock, owner]).status,
    ).toBe(0);
    app.setVersion('v5');
    const before = serving();
    const busy = await deploy();
    expect(busy.exitCode).toBe(5);
    expect(busy.doc.error.message).toContain('laptop-of-ann');
    expect(busy.doc.hosts[1].steps).toEqual([expect.objectContaining({ step: 'preflight', status: 'failed' })]);
    expect(serving()).toEqual(before);
    // host 0's lock, taken first, was given back
    expect(hosts.exec(hosts.hosts[0]!, ['ls', '-A', '/srv/shop/.opsctl']).stdout).not.toMatch(/lock/);
    // the same lock not refreshed for two minutes: its deploy was killed; this one takes it over and goes on
    expect(hosts.exec(h1, ['touch', '-d', '2 minutes ago', `${lock}/owner`]).status).toBe(0);
    const taken = await deploy();
    expect(taken.exitCode, taken.stdout.slice(-800)).toBe(0);
    expect(await versions()).toEqual(['v5', 'v5']);
    expect(hosts.exec(h1, ['ls', '-A', '/srv/shop/.opsctl']).stdout).not.toMatch(/lock/);
  });

  it('ssh settings an engineer gets wrong: a missing identityFile (exit 2), a key with a passphrase or too open (exit 4, no prompt, no hang)', async () => {
    const target = (ssh: Record<string, unknown>) => ({
      production: { ...targetOf(hosts, [hosts.hosts[0]!.destination], hosts.knownHosts), ssh },
    });
    const status = async () => {
      const res = await app.run(['status', '--target', 'production', '--json'], 30_000);
      outputs.push(res.stdout, res.stderr);
      return { ...res, doc: JSON.parse(res.stdout) };
    };
    try {
      const missing = join(hosts.dir, 'no_such_key');
      app.setTargets(target({ identityFile: missing, knownHosts: hosts.knownHosts, connectTimeout: 2 }));
      const res = await status();
      expect(res.exitCode).toBe(2);
      expect(res.doc.error.message).toContain(missing);

      // a copy of the key with a passphrase: BatchMode never asks for it, the hint says what to do
      const locked = join(hosts.dir, 'id_passphrase');
      copyFileSync(hosts.identityFile, locked);
      chmodSync(locked, 0o600);
      expect(spawnSync('ssh-keygen', ['-p', '-q', '-P', '', '-N', 'sesame-1234', '-f', locked]).status).toBe(0);
      app.setTargets(target({ identityFile: locked, knownHosts: hosts.knownHosts, connectTimeout: 2 }));
      const started = Date.now();
      const refused = await status();
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(refused.exitCode).toBe(4);
      expect(refused.doc.hosts[0].error.code).toBe('SSH_AUTH');
      expect(refused.doc.hosts[0].error.hint).toMatch(/passphrase.*ssh-add/);

      // the key readable by everyone: ssh ignores it; said so
      const open = join(hosts.dir, 'id_open');
      copyFileSync(hosts.identityFile, open);
      chmodSync(open, 0o644);
      app.setTargets(target({ identityFile: open, knownHosts: hosts.knownHosts, connectTimeout: 2 }));
      const ignored = await status();
      expect(ignored.exitCode).toBe(4);
      expect(ignored.doc.hosts[0].error.message).toMatch(/permissions/i);
      expect(ignored.doc.hosts[0].error.hint).toContain(`chmod 600 ${open}`);
    } finally {
      app.setTargets({});
    }
  });

  it('another deploy of this checkout running: exit 5, no ssh folder or archive left behind here', async () => {
    const lock = acquireAppLock(app.dir, 'deploy', 'opsctl deploy (a test holding the lock)');
    const tmp = mkdtempSync(join(tmpdir(), 'opsctl-adv-tmp-'));
    try {
      const res = await opsctl(['-C', app.dir, 'deploy', '--target', 'production', '--json'], {
        env: { PM2_HOME: undefined, DATABASE_URL: postgres.url, TMPDIR: tmp },
      });
      outputs.push(res.stdout, res.stderr);
      expect(res.exitCode).toBe(5);
      expect(JSON.parse(res.stdout).ok).toBe(false);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      lock.release();
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("a host whose sshd dies during its switch stays out of rotation; the host before it goes back (runs last: it ends that host's sshd)", async () => {
    const [old] = await versions();
    expect(old).toMatch(/^v/);
    app.setVersion('v6');
    const h1 = hosts.hosts[1]!;
    const hostDeploy = () =>
      hosts.exec(h1, ['sh', '-c', 'ps -eo args | grep -c "^node .*opsctl.js -C /srv/shop/app deploy"']).stdout.trim();
    let killed = false;
    let done = false;
    const watch = (async () => {
      // the host's own deploy of v6 started (the first host is switched: one host at a time): its sshd goes away
      while (!done && !killed) {
        if (Number(hostDeploy()) > 0) {
          for (const pid of spawnSync('ip', ['netns', 'pids', h1.ns], { encoding: 'utf8' }).stdout.split(/\s+/)) {
            if (pid && existsSync(`/proc/${pid}/comm`) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sshd')
              process.kill(Number(pid), 'SIGKILL');
          }
          killed = true;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const { exitCode, doc } = await deploy().finally(() => (done = true));
    await watch;
    expect(killed).toBe(true);
    expect(exitCode).not.toBe(0);
    expect((await versions())[0]).toBe(old);
    expect(doc.hosts[0]).toMatchObject({ rolledBack: true });
    // whatever that host serves now, HAProxy does not send it traffic: only the old release answers through it
    expect(await lbStatus()).toEqual(['h0 UP', 'h1 MAINT']);
    for (let i = 0; i < 10; i++) {
      const res = await fetch(`http://127.0.0.1:${haproxy.port}/`, { signal: AbortSignal.timeout(3_000) });
      expect((await res.text()).trim()).toBe(old);
    }
  });

  it('never printed the private key, its passphrase, a .env value or the database password', () => {
    const password = decodeURIComponent(new URL(postgres.url).password);
    expect(password.length).toBeGreaterThan(5);
    const keyLines = readFileSync(hosts.identityFile, 'utf8')
      .split('\n')
      .filter((l) => l.length > 20 && !l.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(0);
    for (const text of outputs) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(password);
      expect(text).not.toContain('sesame-1234');
      for (const line of keyLines) expect(text).not.toContain(line);
    }
  });
});
