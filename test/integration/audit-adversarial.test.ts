import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { npmAudit } from '../../src/audit/npm-audit.js';
import { createRunner } from '../../src/process/runner.js';
import { advisoryServer } from '../helpers/advisory-server.js';
import { trackChildren } from '../helpers/children.js';
import { BIN, hasStackTrace, opsctl } from '../helpers/cli.js';
import { snykStandIn } from '../helpers/snyk-stand-in.js';
import { waitFor } from '../helpers/wait.js';

// Adversarial cases of `opsctl audit` (README, "`opsctl audit`"): bad flags, broken sources, secrets in outputs.
const SECRET = 'committed-s3cret-value-4821';

let server: Awaited<ReturnType<typeof advisoryServer>>;
const roots: string[] = [];
const outputs: string[] = [];

beforeAll(async () => {
  server = await advisoryServer();
});
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});
afterAll(async () => {
  await server.close();
  for (const o of outputs) expect(o).not.toContain(SECRET);
});

/** An app folder (a space in its path) with one package `svc dir` and the given files. */
function app(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'opsctl audit adv-'));
  roots.push(root);
  const pkg = join(root, 'svc dir');
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'svc', version: '1.0.0', scripts: { start: 'x' } }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(pkg, file, '..'), { recursive: true });
    writeFileSync(join(pkg, file), text);
  }
  return root;
}

async function audit(root: string, args: string[], env: Record<string, string> = {}) {
  const res = await opsctl(['audit', '--no-snyk', '-C', root, ...args], {
    env: { npm_config_registry: server.url, npm_config_fetch_retries: '0', ...env },
    timeoutMs: 120_000,
  });
  outputs.push(res.stdout, res.stderr);
  return res;
}

interface Doc {
  exitCode: number;
  error?: { code: string; message: string; hint?: string };
  findings: Array<{ id: string; file?: string; line?: number }>;
  sources: Array<{ source: string; unparsed?: Array<{ file: string; line?: number; message: string }> }>;
}

function one(stdout: string): Doc {
  return JSON.parse(stdout) as Doc; // throws unless stdout is exactly one JSON document
}

describe('opsctl audit --sarif <file> that cannot be written', () => {
  for (const [what, target] of [
    ['a missing folder', (root: string) => join(root, 'no/such/dir/audit.sarif')],
    ['a folder', (root: string) => root],
  ] as const) {
    it(`${what}: a usage error (exit 2) before auditing, one JSON document, no stack trace`, async () => {
      const root = app({});
      const res = await audit(root, ['--json', '--sarif', target(root)]);
      expect(res.exitCode).toBe(2);
      const doc = one(res.stdout);
      expect(doc.exitCode).toBe(2);
      expect(doc.error?.code).toBe('USAGE');
      expect(doc.error?.message).toContain('--sarif');
      expect(doc.error?.message).not.toMatch(/Unexpected error|ENOENT|EISDIR/);
      expect(doc).not.toHaveProperty('findings'); // refused before auditing
      const text = await audit(root, ['--sarif', target(root)]);
      expect(text.exitCode).toBe(2);
      expect(text.stderr).toMatch(/✖ .*--sarif/);
      expect(text.stderr).not.toContain('looks like a bug');
      expect(hasStackTrace(text.stderr)).toBe(false);
    });
  }
});

describe('opsctl audit: the code audit over hostile trees', () => {
  it('a file with a syntax error and a binary file are reported and skipped; the rest is audited', async () => {
    const root = app({
      'src/broken.js': `const x = ;\nconst password = '${SECRET}';\n`,
      'src/blob.js': Buffer.from([0, 1, 2, 0xff, 0xfe, 0, 0x70, 0x61, 0x73, 0x73]).toString('latin1'),
      'src/ok.js': "const https = require('https');\nnew https.Agent({ rejectUnauthorized: false });\n",
    });
    const res = await audit(root, ['--json']);
    expect(res.exitCode).toBe(1);
    const doc = one(res.stdout);
    expect(doc.findings.map((f) => `${f.id} ${f.file}:${f.line}`)).toEqual([
      'tls/verification-disabled svc dir/src/ok.js:2',
    ]);
    const code = doc.sources.find((s) => s.source === 'code');
    expect(code?.unparsed?.map((u) => u.file).sort()).toEqual(['svc dir/src/blob.js', 'svc dir/src/broken.js']);
    expect(code?.unparsed?.find((u) => u.file.endsWith('broken.js'))).toMatchObject({ line: 1 });
    const text = await audit(root, []);
    expect(text.stderr).toMatch(/⚠ svc dir\/src\/broken\.js:1: not parsed/);
    expect(hasStackTrace(text.stderr)).toBe(false);
  });

  it('symbolic links are not followed: a loop is read once, a link out of the app never', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'opsctl-outside-'));
    roots.push(outside);
    writeFileSync(join(outside, 'leak.js'), "new (require('https').Agent)({ rejectUnauthorized: false });\n");
    const root = app({ 'src/ok.js': "new (require('https').Agent)({ rejectUnauthorized: false });\n" });
    symlinkSync('..', join(root, 'svc dir/src/loop'));
    symlinkSync(outside, join(root, 'svc dir/src/elsewhere'));
    symlinkSync('/nonexistent/target.js', join(root, 'svc dir/src/dangling.js'));
    const res = await audit(root, ['--json']);
    const doc = one(res.stdout);
    expect(doc.findings.map((f) => `${f.id} ${f.file}:${f.line}`)).toEqual([
      'tls/verification-disabled svc dir/src/ok.js:1',
    ]);
  });

  it('secret-named env names are judged by their last word: TOKEN_TTL, CACHE_KEY_PREFIX are no secrets', async () => {
    const root = app({
      'src/config.js': [
        "const ttl = process.env.TOKEN_TTL || '3600';",
        "const prefix = process.env.CACHE_KEY_PREFIX || 'shop:';",
        "const reset = process.env.PASSWORD_RESET_URL || 'https://example.com/reset';",
        "const layout = process.env.KEYBOARD_LAYOUT || 'us';",
        `const key = process.env.STRIPE_SECRET_KEY || '${SECRET}';`,
        '',
      ].join('\n'),
      '.env': `TOKEN_TTL=3600\nCACHE_KEY_PREFIX=shop:\nPASSWORD_MIN_LENGTH=12\nSESSION_SECRET=${SECRET}\n`,
    });
    const res = await audit(root, ['--json']);
    const doc = one(res.stdout);
    expect(doc.findings.map((f) => `${f.id} ${f.file}:${f.line}`).sort()).toEqual(
      ['secrets/committed-env svc dir/.env:4', 'secrets/env-fallback svc dir/src/config.js:5'].sort(),
    );
  });
});

describe('opsctl audit -p: the code audit keeps to the selected packages', () => {
  it('-p other reports only the files of other, under its own name', async () => {
    const tls = "new (require('https').Agent)({ rejectUnauthorized: false });\n";
    const root = app({ 'src/a.js': tls });
    mkdirSync(join(root, 'other/src'), { recursive: true });
    writeFileSync(join(root, 'other/package.json'), JSON.stringify({ name: 'other', version: '1.0.0' }));
    writeFileSync(join(root, 'other/src/b.js'), tls);
    const all = one((await audit(root, ['--json'])).stdout);
    expect(all.findings.map((f) => `${(f as { package?: string }).package} ${f.file}`).sort()).toEqual([
      'other other/src/b.js',
      'svc dir svc dir/src/a.js',
    ]);
    const other = one((await audit(root, ['--json', '-p', 'other'])).stdout);
    expect(other.findings.map((f) => `${(f as { package?: string }).package} ${f.file}`)).toEqual([
      'other other/src/b.js',
    ]);
  });
});

describe('opsctl audit: code rules, more shapes', () => {
  it('a destructured env default is an env fallback; an empty one is not', async () => {
    const root = app({
      'src/config.js': [
        `const { JWT_SECRET = '${SECRET}', PORT = '3000' } = process.env;`,
        "const { SESSION_SECRET = '' } = process.env;",
        "if (!SESSION_SECRET) throw new Error('SESSION_SECRET is required');",
        '',
      ].join('\n'),
    });
    const doc = one((await audit(root, ['--json'])).stdout);
    expect(doc.findings.map((f) => `${f.id} ${f.file}:${f.line}`)).toEqual([
      'secrets/env-fallback svc dir/src/config.js:1',
    ]);
  });

  it('audit.ignore with an impossible date (2027-02-30) is a usage error naming it', async () => {
    const root = app({});
    writeFileSync(
      join(root, 'opsctl.config.yaml'),
      'audit:\n  ignore:\n    - { id: GHSA-aaaa-bbbb-cccc, reason: "x", expires: "2027-02-30" }\n',
    );
    const res = await audit(root, ['--json', '--no-code']);
    expect(res.exitCode).toBe(2);
    expect(one(res.stdout).error?.message).toContain('audit.ignore[0].expires');
  });
});

describe('opsctl audit: a Snyk that prints no JSON', () => {
  const token = 'snyk-adv-token-55e1a9';
  for (const exit of [0, 1] as const) {
    it(`exit ${exit} with text instead of JSON: "printed no JSON report", its first line shown, the token masked`, async () => {
      const root = app({});
      const stand = snykStandIn(join(root, 'snyk'), { '*': { exit, text: `Testing with token ${token}\nnot json\n` } });
      const env = {
        PATH: [stand.bin, '/usr/bin', '/bin', join(process.execPath, '..')].join(delimiter),
        SNYK_TOKEN: token,
        XDG_CONFIG_HOME: join(root, 'config'),
      };
      const res = await opsctl(['audit', '--snyk', '--no-code', '-C', root, '--json'], {
        env: { npm_config_registry: server.url, ...env },
        timeoutMs: 60_000,
      });
      outputs.push(res.stdout, res.stderr);
      expect(res.exitCode).toBe(4);
      const message = one(res.stdout).error?.message ?? '';
      expect(message).toContain(`snyk test printed no JSON report (exit ${exit}): Testing with token ****`);
      expect(res.stdout + res.stderr).not.toContain(token);
    });
  }
});

describe('opsctl audit: a registry without the audit endpoint, or misbehaving', () => {
  /** A package with a lockfile (ms 0.7.0), so npm asks only the bulk endpoint. */
  function locked(): string {
    const root = app({});
    const lock = { name: 'svc', version: '1.0.0', lockfileVersion: 3, requires: true };
    writeFileSync(
      join(root, 'svc dir/package.json'),
      JSON.stringify({ name: 'svc', version: '1.0.0', dependencies: { ms: '0.7.0' } }),
    );
    writeFileSync(
      join(root, 'svc dir/package-lock.json'),
      JSON.stringify({
        ...lock,
        packages: {
          '': { name: 'svc', version: '1.0.0', dependencies: { ms: '0.7.0' } },
          'node_modules/ms': { version: '0.7.0', resolved: `${server.url}ms/-/ms-0.7.0.tgz`, integrity: 'sha1-x' },
        },
      }),
    );
    return root;
  }

  it('405 (a mirror without the bulk endpoint): exit 4, says the registry has no audit endpoint; no ✔', async () => {
    const refusing = await advisoryServer((_req, res) => res.writeHead(405, { allow: 'GET, HEAD' }).end());
    try {
      const root = locked();
      const res = await audit(root, ['--no-code'], { npm_config_registry: refusing.url });
      expect(res.exitCode).toBe(4);
      expect(res.stderr).toMatch(/✖ An advisory source could not be used: npm \(svc dir\): .*405/);
      expect(res.stderr).toMatch(/→ .*does not offer npm's audit endpoint/);
      expect(res.stderr).toContain('npm_config_registry');
      expect(res.stderr).not.toContain('✔');
      const json = await audit(root, ['--no-code', '--json'], { npm_config_registry: refusing.url });
      expect(json.exitCode).toBe(4);
      expect(one(json.stdout).error?.hint).toMatch(/does not offer npm's audit endpoint/);
    } finally {
      await refusing.close();
    }
  });

  it('a registry that never answers: npm is ended at the bound, and the message says how long it waited', async () => {
    const hanging = await advisoryServer(() => {}); // reads the request, never answers
    const previous = process.env.npm_config_registry;
    process.env.npm_config_registry = hanging.url;
    try {
      const root = locked();
      const dir = join(root, 'svc dir');
      const pkg = { name: 'svc', dir, path: 'svc dir', scripts: {}, dependencies: {}, devDependencies: {} };
      const started = Date.now();
      const result = await npmAudit([{ ...pkg, dependsOn: [], env: {}, outputs: [] }], {
        runner: createRunner(),
        concurrency: 1,
        omitDev: false,
        timeoutMs: 3_000,
      });
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(result.unreachable).toEqual([
        { package: 'svc', message: 'npm audit did not finish within 3 s: the registry did not answer' },
      ]);
      expect(hanging.hits.some((h) => h.path === '/-/npm/v1/security/advisories/bulk')).toBe(true);
    } finally {
      if (previous === undefined) delete process.env.npm_config_registry;
      else process.env.npm_config_registry = previous;
      await hanging.close();
    }
  });

  it('a password in the registry URL (env or .npmrc) is printed neither as written nor as its Basic credential', async () => {
    // a registry that quotes the Authorization header back in its error, as some proxies do
    const echoing = await advisoryServer((req, res) =>
      res.writeHead(401).end(`{"error":"bad ${req.headers.authorization}"}`),
    );
    const password = 'URLPASS-s3cret-99';
    const basic = Buffer.from(`alice:${password}`).toString('base64');
    const registry = `http://alice:${password}@127.0.0.1:${echoing.port}/`;
    try {
      const root = locked();
      const fromEnv = await audit(root, ['--no-code', '--json'], { npm_config_registry: registry });
      writeFileSync(join(root, 'svc dir/.npmrc'), `registry=${registry}\n`);
      const fromNpmrc = await audit(root, ['--no-code', '--debug'], { npm_config_registry: '' });
      expect(echoing.hits.filter((h) => h.auth === `Basic ${basic}`).length).toBe(2); // npm did send it
      for (const res of [fromEnv, fromNpmrc]) {
        expect(res.exitCode).toBe(4);
        for (const out of [res.stdout, res.stderr]) {
          expect(out).not.toContain(password);
          expect(out).not.toContain(basic);
        }
      }
    } finally {
      await echoing.close();
    }
  });

  it('a corrupt lockfile: exit 3 naming the lockfile and how to rebuild it (npm only says it requires one)', async () => {
    const root = locked();
    writeFileSync(join(root, 'svc dir/package-lock.json'), '{ "name": "svc", ');
    const res = await audit(root, ['--no-code', '--json']);
    expect(res.exitCode).toBe(3);
    const message = one(res.stdout).error?.message ?? '';
    expect(message).toContain('npm (svc dir): package-lock.json cannot be read');
    expect(message).toContain('npm i --package-lock-only');
  });

  it('SIGINT while npm audit waits on the registry: exit 130, one JSON document, no npm left running', async () => {
    const hanging = await advisoryServer(() => {});
    try {
      const root = locked();
      const child = spawn(process.execPath, [BIN, 'audit', '--no-snyk', '--no-code', '--json', '-C', root], {
        env: { ...process.env, NO_COLOR: '1', npm_config_registry: hanging.url, npm_config_fetch_retries: '0' },
      });
      children.push(child);
      let stdout = '';
      child.stdout.on('data', (d) => {
        stdout += d;
      });
      await waitFor('npm to ask the bulk endpoint', () =>
        hanging.hits.some((h) => h.path.includes('/advisories/bulk')),
      );
      expect(inApp(root).length).toBeGreaterThan(0); // npm is running in the package
      child.kill('SIGINT');
      const [code] = await once(child, 'exit');
      expect(code).toBe(130);
      expect(one(stdout)).toMatchObject({ exitCode: 130, error: { code: 'INTERRUPTED' } });
      await waitFor('npm to be gone', () => inApp(root).length === 0, 10_000);
    } finally {
      await hanging.close();
    }
  });
});

describe('opsctl audit without npm on PATH', () => {
  it('says npm was not found and how to fix it (not "fix the package"); exit 3', async () => {
    const root = app({});
    const res = await audit(root, ['--json', '--no-code'], { PATH: '/nonexistent' });
    expect(res.exitCode).toBe(3);
    const doc = one(res.stdout);
    expect(doc.error?.message).toContain('npm (svc dir): npm was not found on PATH');
    expect(doc.error?.hint).toMatch(/Install Node\.js/);
  });
});

const children = trackChildren();

/** Live processes whose working folder is inside `root` (npm and its children). */
function inApp(root: string): number[] {
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`).startsWith(root)) pids.push(Number(pid));
    } catch {}
  }
  return pids;
}
