import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BIN } from '../helpers/cli.js';
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
  const child = spawn(process.execPath, [BIN, '-C', dir, 'deploy', '--target', 'production', '--json', ...args], {
    env: { ...process.env, NO_COLOR: '1', PM2_HOME: join(tmp, 'pm2'), TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  try {
    const before = hung.connections();
    // ssh reached the host and waits for its banner: the preflight is under way
    const deadline = Date.now() + 20_000;
    while (hung.connections() === before) {
      if (Date.now() > deadline) throw new Error(`ssh never connected: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    const sent = Date.now();
    child.kill(signal);
    const code = await exited;
    return { code, ms: Date.now() - sent, stdout, stderr };
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
