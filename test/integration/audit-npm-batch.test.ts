import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { npmAudit } from '../../src/audit/npm-audit.js';
import { findNpmCli, runNpmBatch } from '../../src/audit/npm-batch.js';
import type { AppPackage } from '../../src/packages/types.js';
import { createRunner, type Runner } from '../../src/process/runner.js';
import { advisoryServer } from '../helpers/advisory-server.js';

// npm's audit for several packages in one node process (README, "`opsctl audit`", npm advisories): the same
// report as `npm audit --json` run in each package, each package under its own npm configuration.
const APP = join(import.meta.dirname, '../fixtures/audit/app');
const TOKEN = 'batch-registry-token-41d7';
const run = promisify(execFile);

let root: string;
let server: Awaited<ReturnType<typeof advisoryServer>>;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-audit-batch-'));
  server = await advisoryServer();
});
afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh copy of the fixture app, each package pointed at `registry` by its own .npmrc. */
function app(registry: string): string {
  const dir = mkdtempSync(join(root, 'app-'));
  cpSync(APP, dir, { recursive: true });
  for (const p of ['backend', 'frontend', 'shared', 'worker'])
    writeFileSync(join(dir, p, '.npmrc'), `registry=${registry}\n`);
  return dir;
}

function pkg(dir: string, name: string): AppPackage {
  const base = { scripts: {}, dependencies: {}, devDependencies: {}, dependsOn: [], env: {}, outputs: [] };
  return { ...base, name, dir: join(dir, name), path: name };
}

/** The real runner, recording what it started. */
function recording(): { runner: Runner; started: string[] } {
  const real = createRunner();
  const started: string[] = [];
  return {
    started,
    runner: {
      run(command, args, options) {
        started.push(command);
        return real.run(command, args, options);
      },
    },
  };
}

/** A registry in front of `target` that answers each request `ms` late. */
async function delayed(target: string, ms: number) {
  let answered = 0;
  const proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        const upstream = request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
          answered++;
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        });
        upstream.on('error', () => res.destroy());
        upstream.end(Buffer.concat(chunks));
      }, ms);
    });
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    answered: () => answered,
    async close() {
      proxy.closeAllConnections();
      proxy.close();
    },
  };
}

/** npmAudit (batch) of backend and frontend with `bin` first on PATH: what it started, and the npm-cli.js it found. */
async function auditWithPath(dir: string, bin: string) {
  const previous = process.env.PATH;
  process.env.PATH = [bin, previous].join(delimiter);
  try {
    const { runner, started } = recording();
    const packages = [pkg(dir, 'backend'), pkg(dir, 'frontend')];
    const result = await npmAudit(packages, { runner, concurrency: 2, omitDev: false, batch: true });
    return { cli: findNpmCli(), started, result };
  } finally {
    process.env.PATH = previous;
  }
}

/** `npm <args>` as a process of its own in `dir`: its stdout (npm audit exits 1 on findings). */
async function npmAlone(dir: string, args: string[]): Promise<string> {
  try {
    return (await run('npm', args, { cwd: dir })).stdout;
  } catch (error) {
    return (error as { stdout: string }).stdout;
  }
}

describe('npm audit, several packages in one node process', () => {
  it('each report is byte for byte what `npm audit --json` prints in that package, all at once in one process', async () => {
    const dir = app(server.url);
    const jobs = [
      { dir: join(dir, 'backend'), args: ['audit', '--json'] },
      { dir: join(dir, 'frontend'), args: ['audit', '--json'] },
      { dir: join(dir, 'shared'), args: ['audit', '--json', '--omit=dev'] },
      { dir: join(dir, 'shared'), args: ['audit', '--json'] },
      { dir: join(dir, 'worker'), args: ['audit', '--json', '--package-lock=false'] },
    ];
    const cli = findNpmCli();
    expect(cli).toMatch(/npm-cli\.js$/);
    const { runner, started } = recording();
    const batch = await runNpmBatch(runner, cli!, jobs, { timeoutMs: 60_000, atOnce: jobs.length }); // all at once
    expect(started).toEqual(['node']);
    expect([...batch.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
    for (const [i, job] of jobs.entries()) {
      const alone = await npmAlone(job.dir, job.args);
      expect(JSON.parse(alone)).toHaveProperty('vulnerabilities'); // a real report, not an error
      expect(batch.get(i)?.stdout.trim()).toBe(alone.trim());
      expect(batch.get(i)?.timedOut).toBe(false);
    }
    // findings where npm finds them: ms in backend, in shared only with dev dependencies, in worker
    const vulnerable = jobs.map((_, i) => Object.keys(JSON.parse(batch.get(i)!.stdout).vulnerabilities));
    expect(vulnerable).toEqual([['ms'], [], [], ['ms'], ['ms']]);
  });

  it("each package reads its own .npmrc: one package's settings and token do not reach the next", async () => {
    const other = await advisoryServer();
    try {
      const dir = app(server.url);
      // backend: another registry, a token and omit=dev, which npm's config loading exports as npm_config_omit
      writeFileSync(
        join(dir, 'backend/.npmrc'),
        `registry=${other.url}\n//127.0.0.1:${other.port}/:_authToken=${TOKEN}\nomit=dev\n`,
      );
      server.hits.length = 0;
      const result = await npmAudit([pkg(dir, 'backend'), pkg(dir, 'shared')], {
        runner: createRunner(),
        concurrency: 2,
        omitDev: false,
        batch: true,
      });
      expect(result.unreachable).toEqual([]);
      const bulk = (hits: typeof server.hits) => hits.filter((h) => h.path.endsWith('/advisories/bulk'));
      expect(bulk(other.hits).map((h) => h.auth)).toEqual([`Bearer ${TOKEN}`]);
      expect(bulk(server.hits).map((h) => h.auth)).toEqual([undefined]);
      // shared's ms is a dev dependency: audited, since omit=dev was backend's setting only
      expect(bulk(server.hits)[0]?.body).toEqual({ 'is-number': ['7.0.0'], ms: ['0.7.0'] });
      const found = result.findings.map((f) => `${f.package} ${f.dependency}`).sort();
      expect(found).toEqual(['backend ms', 'backend ms', 'shared ms', 'shared ms']);
    } finally {
      await other.close();
    }
  });

  it('a registry that never answers: each package is ended at its bound, in the one process', async () => {
    const hanging = await advisoryServer(() => {}); // reads the request, never answers
    try {
      const dir = app(hanging.url);
      const { runner, started } = recording();
      const began = Date.now();
      const result = await npmAudit([pkg(dir, 'backend'), pkg(dir, 'frontend')], {
        runner,
        concurrency: 2,
        omitDev: false,
        timeoutMs: 3_000,
        batch: true,
      });
      expect(Date.now() - began).toBeLessThan(20_000);
      const message = 'npm audit did not finish within 3 s: the registry did not answer';
      expect(result.unreachable.sort((a, b) => a.package.localeCompare(b.package))).toEqual([
        { package: 'backend', message },
        { package: 'frontend', message },
      ]);
      expect(started).toEqual(['node']);
      expect(hanging.hits.filter((h) => h.path.endsWith('/advisories/bulk')).length).toBe(2);
    } finally {
      await hanging.close();
    }
  });

  it("a package's report that comes after its bound reaches no other package's output", async () => {
    // backend's registry answers after 4 s (bound 3 s): its report is made while frontend's audit is running
    const late = await delayed(server.url, 4_000);
    const slow = await delayed(server.url, 2_000);
    try {
      const dir = app(server.url);
      writeFileSync(join(dir, 'backend/.npmrc'), `registry=${late.url}\n`);
      writeFileSync(join(dir, 'frontend/.npmrc'), `registry=${slow.url}\n`);
      const jobs = [
        { dir: join(dir, 'backend'), args: ['audit', '--json'] },
        { dir: join(dir, 'frontend'), args: ['audit', '--json'] },
      ];
      const batch = await runNpmBatch(createRunner(), findNpmCli()!, jobs, { timeoutMs: 3_000, atOnce: 1 });
      expect(batch.get(0)?.timedOut).toBe(true);
      expect(late.answered()).toBeGreaterThan(0); // backend's answer did arrive, during frontend's audit
      const frontend = batch.get(1);
      expect(frontend?.timedOut).toBe(false);
      expect(JSON.parse(frontend!.stdout).vulnerabilities).toEqual({}); // frontend's own report, only
    } finally {
      await late.close();
      await slow.close();
    }
  });

  it('an npm whose CLI steps are not the ones known (load() says nothing): npm runs per package instead', async () => {
    const dir = app(server.url);
    const real = findNpmCli()!;
    // npm 11 by its version, with a different Npm class; its npm-cli.js is the real one's
    const fake = join(dir, 'fake-npm');
    for (const sub of ['bin', 'lib/cli']) mkdirSync(join(fake, sub), { recursive: true });
    writeFileSync(join(fake, 'package.json'), JSON.stringify({ name: 'npm', version: '11.0.0' }));
    writeFileSync(join(fake, 'bin/npm-cli.js'), `#!/usr/bin/env node\nrequire(${JSON.stringify(real)});\n`);
    chmodSync(join(fake, 'bin/npm-cli.js'), 0o755);
    writeFileSync(join(fake, 'lib/cli/entry.js'), '');
    writeFileSync(join(fake, 'lib/npm.js'), 'module.exports = class { async load() { return {}; } unload() {} };\n');
    symlinkSync(join(real, '../../node_modules'), join(fake, 'node_modules'));
    const bin = join(dir, 'fake-bin');
    mkdirSync(bin);
    symlinkSync(join(fake, 'bin/npm-cli.js'), join(bin, 'npm'));
    const { cli, started, result } = await auditWithPath(dir, bin);
    expect(cli).toBe(join(fake, 'bin/npm-cli.js'));
    expect(started).toEqual(['node', 'npm', 'npm']);
    expect(result.unreachable).toEqual([]);
    expect(result.findings.map((f) => f.package)).toEqual(['backend', 'backend']);
  });

  it('an `npm` on PATH that is not npm-cli.js (a wrapper) runs as it is, one process per package', async () => {
    const dir = app(server.url);
    const bin = join(dir, 'wrapper-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec ${JSON.stringify(findNpmCli())} "$@"\n`);
    chmodSync(join(bin, 'npm'), 0o755);
    const { cli, started, result } = await auditWithPath(dir, bin);
    expect(cli).toBeUndefined();
    expect(started).toEqual(['npm', 'npm']);
    expect(result.unreachable).toEqual([]);
    expect(result.findings.map((f) => f.package)).toEqual(['backend', 'backend']);
  });
});
