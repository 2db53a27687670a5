import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { findNpmCli } from '../../src/audit/npm-batch.js';
import { advisoryServer } from '../helpers/advisory-server.js';
import { BIN, hasStackTrace, opsctl } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

// Registries that answer npm's audit endpoint with something that is not advisories, and an npm configured not to
// ask at all (README, "`opsctl audit`", npm advisories): npm prints an empty report for those, as if nothing were
// vulnerable; opsctl must not say "nothing found" (exit 0) when nothing was asked or understood.
let server: Awaited<ReturnType<typeof advisoryServer>>;
const roots: string[] = [];

beforeAll(async () => {
  server = await advisoryServer();
});
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
afterAll(async () => {
  await server.close();
});

/** An app of two packages with a lockfile each (ms 0.7.0, which has advisories): `one dir` and `two`. */
function app(): string {
  const root = mkdtempSync(join(tmpdir(), 'opsctl audit edges-'));
  roots.push(root);
  for (const name of ['one dir', 'two']) {
    const dir = join(root, name);
    mkdirSync(dir);
    const manifest = { name: name.replace(' ', '-'), version: '1.0.0', dependencies: { ms: '0.7.0' } };
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ ...manifest, scripts: { start: 'node x' } }));
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({
        name: manifest.name,
        version: '1.0.0',
        lockfileVersion: 3,
        requires: true,
        packages: {
          '': manifest,
          'node_modules/ms': { version: '0.7.0', resolved: `${server.url}ms/-/ms-0.7.0.tgz`, integrity: 'sha1-x' },
        },
      }),
    );
  }
  return root;
}

async function audit(root: string, args: string[], env: Record<string, string> = {}) {
  return opsctl(['audit', '--no-snyk', '--no-code', '-C', root, ...args], {
    env: { npm_config_registry: server.url, npm_config_fetch_retries: '0', ...env },
    timeoutMs: 120_000,
  });
}

interface Doc {
  exitCode: number;
  error?: { code: string; message: string; hint?: string };
  findings: Array<{ id: string; package: string }>;
  sources: Array<{ source: string; unreachable: Array<{ package: string; message: string; failed?: boolean }> }>;
}

/** A registry whose audit endpoint answers 200 with `body`. */
function answering(body: string) {
  return advisoryServer((req, res) => {
    if (req.url?.endsWith('/advisories/bulk')) res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    else res.writeHead(404).end('{}');
  });
}

/** A folder holding an `npm` that is a wrapper script around the real one (opsctl then runs npm per package). */
function wrapperBin(root: string): string {
  const bin = join(root, 'wrapper-bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec ${JSON.stringify(findNpmCli())} "$@"\n`);
  chmodSync(join(bin, 'npm'), 0o755);
  return bin;
}

describe('opsctl audit: an audit endpoint that answers 200 with something other than advisories', () => {
  /** `check` on a fresh app, npm pointed at a registry whose audit endpoint answers 200 with `body`. */
  async function withAnswer(body: string, check: (root: string, registry: string) => Promise<void>) {
    const bad = await answering(body);
    try {
      await check(app(), bad.url);
    } finally {
      await bad.close();
    }
  }

  for (const body of ['null', '[]', '42']) {
    it(`200 ${body}: exit 4 naming the answer, not "nothing found"; one JSON document`, () =>
      withAnswer(body, async (root, registry) => {
        const json = await audit(root, ['--json'], { npm_config_registry: registry });
        expect(json.exitCode).toBe(4);
        const doc = JSON.parse(json.stdout) as Doc;
        expect(doc.error?.code).toBe('SOURCE_UNREACHABLE');
        const npm = doc.sources.find((s) => s.source === 'npm')!;
        expect(npm.unreachable.map((u) => u.package)).toEqual(['one dir', 'two']);
        for (const u of npm.unreachable) {
          expect(u.message).toBe(`the registry's audit endpoint answered 200 with ${body}, not advisories`);
          expect(u.failed).toBeUndefined();
        }
        const text = await audit(root, [], { npm_config_registry: registry });
        expect(text.exitCode).toBe(4);
        expect(text.stderr).not.toContain('✔');
        expect(text.stderr).toContain(`answered 200 with ${body}, not advisories`);
        expect(hasStackTrace(text.stderr)).toBe(false);
      }));
  }

  it('200 null with color=always in .npmrc (npm colours its log lines even into a pipe): exit 4 too', () =>
    withAnswer('null', async (root, registry) => {
      writeFileSync(join(root, 'two/.npmrc'), 'color=always\n');
      const res = await audit(root, ['--json', '-p', 'two'], { npm_config_registry: registry });
      expect(res.exitCode).toBe(4);
      expect((JSON.parse(res.stdout) as Doc).error?.message).toContain('answered 200 with null, not advisories');
    }));

  it('200 null through an npm that runs per package (a wrapper on PATH): exit 4 too', () =>
    withAnswer('null', async (root, registry) => {
      const PATH = [wrapperBin(root), process.env.PATH].join(delimiter);
      const res = await audit(root, ['--json'], { npm_config_registry: registry, PATH });
      expect(res.exitCode).toBe(4);
      expect((JSON.parse(res.stdout) as Doc).error?.message).toContain('answered 200 with null, not advisories');
    }));

  it('advisories of the wrong shape ({"ms": "x"}): exit 4 blaming the answer, not "fix the package" (exit 3)', () =>
    withAnswer('{"ms":"not a list"}', async (root, registry) => {
      const res = await audit(root, ['--json'], { npm_config_registry: registry });
      expect(res.exitCode).toBe(4);
      const doc = JSON.parse(res.stdout) as Doc;
      expect(doc.error?.message).toMatch(
        /npm \(two\): the registry's audit endpoint answered advisories npm could not read/,
      );
      expect(doc.error?.hint).not.toMatch(/Fix the package/);
    }));

  it('a registry answer with advisories that carry no id: exit 4, no finding made up from it', () =>
    withAnswer('{"ms":[{"severity":"high"}]}', async (root, registry) => {
      const res = await audit(root, ['--json'], { npm_config_registry: registry });
      expect(res.exitCode).toBe(4);
      const doc = JSON.parse(res.stdout) as Doc;
      expect(doc.findings).toEqual([]);
      expect(doc.error?.message).toContain('advisories without an id');
    }));
});

describe('opsctl audit: an npm configured offline asks no registry', () => {
  it("offline=true in one package's .npmrc: that package is exit 4 saying so; the other is audited", async () => {
    const root = app();
    writeFileSync(join(root, 'one dir/.npmrc'), 'offline=true\n');
    const res = await audit(root, ['--json', '--concurrency', '2']);
    expect(res.exitCode).toBe(4);
    const doc = JSON.parse(res.stdout) as Doc;
    expect(doc.sources.find((s) => s.source === 'npm')?.unreachable).toEqual([
      {
        package: 'one dir',
        message: expect.stringContaining('npm asked no registry (offline'),
        hint: expect.stringContaining('npm_config_offline=false'),
      },
    ]);
    expect(doc.error?.hint).toMatch(/offline/);
    expect(new Set(doc.findings.map((f) => f.package))).toEqual(new Set(['two']));
  });

  it('npm_config_offline=true for every package: exit 4, never "nothing found"', async () => {
    const root = app();
    const res = await audit(root, [], { npm_config_offline: 'true' });
    expect(res.exitCode).toBe(4);
    expect(res.stderr).not.toContain('✔');
    expect(res.stderr).toMatch(/npm asked no registry \(offline/);
  });
});

describe('opsctl audit: npm credentials as username and _password (npm writes the password base64)', () => {
  it('a registry quoting the Authorization header back: neither the password nor the Basic credential is printed', async () => {
    const echoing = await advisoryServer((req, res) =>
      res.writeHead(401, { 'content-type': 'application/json' }).end(`{"error":"bad ${req.headers.authorization}"}`),
    );
    const password = 'pw-Edges-5521x';
    const basic = Buffer.from(`alice:${password}`).toString('base64');
    const encoded = Buffer.from(password).toString('base64');
    try {
      const root = app();
      const nerf = `//127.0.0.1:${echoing.port}/`;
      for (const name of ['one dir', 'two'])
        writeFileSync(
          join(root, name, '.npmrc'),
          `registry=${echoing.url}\n${nerf}:username=alice\n${nerf}:_password=${encoded}\n`,
        );
      const json = await audit(root, ['--json'], { npm_config_registry: '' });
      const text = await audit(root, ['--debug'], { npm_config_registry: '' });
      expect(echoing.hits.filter((h) => h.auth === `Basic ${basic}`).length).toBe(4); // npm did send it
      for (const res of [json, text]) {
        expect(res.exitCode).toBe(4);
        expect(res.stdout + res.stderr).toContain('401 Unauthorized');
        for (const out of [res.stdout, res.stderr]) {
          expect(out).not.toContain(basic);
          expect(out).not.toContain(password);
          expect(out).not.toContain(encoded);
        }
      }
    } finally {
      await echoing.close();
    }
  });
});

describe('opsctl audit: a lockfile v1 (npm 6)', () => {
  it('its findings carry the installed version, as for a v2/v3 lockfile', async () => {
    const root = app();
    writeFileSync(
      join(root, 'two/package-lock.json'),
      JSON.stringify({
        name: 'two',
        version: '1.0.0',
        lockfileVersion: 1,
        requires: true,
        dependencies: { ms: { version: '0.7.0', resolved: `${server.url}ms/-/ms-0.7.0.tgz`, integrity: 'sha1-x' } },
      }),
    );
    const res = await audit(root, ['--json', '-p', 'two']);
    expect(res.exitCode).toBe(1);
    const findings = (JSON.parse(res.stdout) as { findings: Array<{ dependency: string; version?: string }> }).findings;
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) expect(f).toMatchObject({ dependency: 'ms', version: '0.7.0' });
  });
});

describe('opsctl audit: a lockfile that is JSON but no lockfile', () => {
  it('package-lock.json holding null: exit 3 naming the lockfile and how to rebuild it', async () => {
    const root = app();
    writeFileSync(join(root, 'two/package-lock.json'), 'null\n');
    const res = await audit(root, ['--json', '-p', 'two']);
    expect(res.exitCode).toBe(3);
    const message = (JSON.parse(res.stdout) as Doc).error?.message ?? '';
    expect(message).toContain('npm (two): package-lock.json is not a lockfile (it holds null)');
    expect(message).toContain('npm i --package-lock-only');
  });
});

describe('opsctl audit: packages that fail at different speeds', () => {
  it('are listed (JSON and the error message) in the order of the packages, not the order they finished', async () => {
    const slow = await advisoryServer((_req, res) => {
      setTimeout(() => res.writeHead(500).end('slow'), 1_500);
    });
    const fast = await advisoryServer((_req, res) => res.writeHead(500).end('fast'));
    try {
      const root = app();
      writeFileSync(join(root, 'one dir/.npmrc'), `registry=${slow.url}\n`);
      writeFileSync(join(root, 'two/.npmrc'), `registry=${fast.url}\n`);
      const res = await audit(root, ['--json', '--concurrency', '2'], { npm_config_registry: '' });
      expect(res.exitCode).toBe(4);
      const doc = JSON.parse(res.stdout) as Doc;
      expect(doc.sources.find((s) => s.source === 'npm')?.unreachable.map((u) => u.package)).toEqual([
        'one dir',
        'two',
      ]);
      expect(doc.error?.message).toMatch(/npm \(one dir\): .*; npm \(two\): /);
    } finally {
      await slow.close();
      await fast.close();
    }
  });
});

describe('opsctl audit killed outright (SIGKILL, an OOM killer, a CI time-out)', () => {
  it("the one node process auditing the packages does not outlive it by npm's bound", async () => {
    const hanging = await advisoryServer(() => {}); // reads the request, never answers
    const root = app();
    const leftover = () => inApp(root);
    try {
      const child = spawn(process.execPath, [BIN, 'audit', '--no-snyk', '--no-code', '--json', '-C', root], {
        env: { ...process.env, NO_COLOR: '1', npm_config_registry: hanging.url, npm_config_fetch_retries: '0' },
        stdio: 'ignore',
      });
      const exited = once(child, 'exit');
      onTestFinished(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      await waitFor('npm to ask the bulk endpoint', () =>
        hanging.hits.some((h) => h.path.includes('/advisories/bulk')),
      );
      expect(leftover().length).toBeGreaterThan(0);
      child.kill('SIGKILL');
      await exited;
      // npm's own bound is 120 s; its process notices it was left within seconds
      await waitFor('the audit process to be gone', () => leftover().length === 0, 15_000);
    } finally {
      for (const pid of leftover()) process.kill(pid, 'SIGKILL');
      await hanging.close();
    }
  });
});

/** Live processes whose working folder is inside `root` (npm's process and its children). */
function inApp(root: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(root)) pids.push(Number(pid));
    } catch {}
  }
  return pids;
}
