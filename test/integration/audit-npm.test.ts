import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryServer } from '../helpers/advisory-server.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { validateSarif } from '../helpers/sarif.js';

const APP = join(import.meta.dirname, '../fixtures/audit/app');
const TOKEN = 'npm-registry-token-7c1d3e';
const MS_MODERATE = 'GHSA-w9mr-4mfr-499f';
const MS_HIGH = 'GHSA-3fx5-fwvr-xrjg';

let root: string;
let server: Awaited<ReturnType<typeof advisoryServer>>;
const outputs: string[] = [];

async function audit(args: string[], env: Record<string, string> = {}) {
  const res = await opsctl(['audit', '--no-snyk', '--no-code', '-C', root, ...args], {
    env: { npm_config_registry: server.url, npm_config_fetch_retries: '0', ...env },
    timeoutMs: 120_000,
  });
  outputs.push(res.stdout, res.stderr);
  return res;
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-audit-'));
  cpSync(APP, root, { recursive: true });
  server = await advisoryServer();
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('opsctl audit: npm advisories through real npm audit', () => {
  it('audits all four packages through the bulk endpoint (gzipped), with and without a lockfile', async () => {
    const res = await audit(['--json']);
    expect(res.exitCode).toBe(1); // a high advisory, default level high
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'audit', ok: false, exitCode: 1, level: 'high' });
    const key = (f: { package: string; id: string }) => `${f.package} ${f.id}`;
    expect(doc.findings.map(key).sort()).toEqual(
      [
        `backend ${MS_HIGH}`,
        `backend ${MS_MODERATE}`,
        `shared ${MS_HIGH}`,
        `shared ${MS_MODERATE}`,
        `worker ${MS_HIGH}`,
        `worker ${MS_MODERATE}`,
      ].sort(),
    );
    const high = doc.findings.find((f: { package: string; id: string }) => f.package === 'backend' && f.id === MS_HIGH);
    expect(high).toMatchObject({
      source: 'npm',
      severity: 'high',
      dependency: 'ms',
      version: '0.7.0',
      title: 'Regular Expression Denial of Service in ms',
      fixedIn: '0.7.1',
      path: ['ms'],
      ignored: false,
    });
    // npm 11 sends each package's tree to the bulk endpoint, gzipped; nothing else about advisories
    const bulk = server.hits.filter((h) => h.path === '/-/npm/v1/security/advisories/bulk');
    expect(bulk.length).toBe(4);
    expect(bulk.every((h) => h.method === 'POST' && h.contentEncoding === 'gzip')).toBe(true);
    expect(bulk.map((h) => JSON.stringify(h.body)).sort()).toEqual(
      [
        '{"is-number":["7.0.0"],"ms":["0.7.0"]}', // backend
        '{"is-number":["7.0.0"]}', // frontend
        '{"is-number":["7.0.0"],"ms":["0.7.0"]}', // shared (ms is a dev dependency)
        '{"ms":["0.7.0"]}', // worker
      ].sort(),
    );
    // worker has no lockfile: npm resolved its tree from the registry's packument
    expect(server.hits.some((h) => h.path === '/ms')).toBe(true);
  });

  it('--omit dev leaves dev dependencies out; --level critical passes', async () => {
    const res = await audit(['--json', '--omit', 'dev', '--level', 'critical']);
    expect(res.exitCode).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.findings.filter((f: { package: string }) => f.package === 'shared')).toEqual([]);
    expect(doc.findings.length).toBe(4);
  });

  it('the table is grouped by severity, highest first', async () => {
    const res = await audit(['-p', 'backend']);
    expect(res.exitCode).toBe(1);
    expect(res.stdout.indexOf('HIGH (1)')).toBeGreaterThanOrEqual(0);
    expect(res.stdout.indexOf('HIGH (1)')).toBeLessThan(res.stdout.indexOf('MODERATE (1)'));
    expect(res.stdout).toMatch(/backend\s+ms\s+0\.7\.0\s+Regular Expression Denial of Service in ms\s+0\.7\.1\s+npm/);
    expect(res.stderr).toContain('✖ 1 unignored finding(s) at or above high.');
  });

  it('uses the package .npmrc token and never prints it', async () => {
    writeFileSync(join(root, 'backend/.npmrc'), `//127.0.0.1:${server.port}/:_authToken=${TOKEN}\n`);
    server.hits.length = 0;
    const res = await audit(['-p', 'backend', '--debug']);
    rmSync(join(root, 'backend/.npmrc'));
    expect(server.hits.some((h) => h.auth === `Bearer ${TOKEN}`)).toBe(true);
    expect(res.exitCode).toBe(1);
  });
});

describe('opsctl audit: policy from the config, and SARIF', () => {
  it('audit.ignore: ignored findings stay marked; an expired entry fails and says so; an unused one warns', async () => {
    const config = join(root, 'opsctl.config.yaml');
    writeFileSync(
      config,
      [
        'audit:',
        '  level: high',
        '  ignore:',
        `    - { id: ${MS_HIGH}, reason: "only parses our own constants", expires: 2999-12-31 }`,
        '    - { id: GHSA-0000-0000-0000, reason: "left over", expires: 2999-12-31 }',
        '',
      ].join('\n'),
    );
    try {
      const sarif = join(root, 'audit.sarif');
      const ok = await audit(['-p', 'backend', '--json', '--sarif', sarif]);
      expect(ok.exitCode).toBe(0);
      const doc = JSON.parse(ok.stdout);
      expect(doc.findings.find((f: { id: string }) => f.id === MS_HIGH)).toMatchObject({ ignored: true });
      expect(doc.unusedIgnores.map((e: { id: string }) => e.id)).toEqual(['GHSA-0000-0000-0000']);
      const log = JSON.parse(readFileSync(sarif, 'utf8'));
      expect(validateSarif(log)).toEqual([]);
      expect(log.runs[0].results).toHaveLength(2);

      const text = await audit(['-p', 'backend']);
      expect(text.stderr).toContain('⚠ audit.ignore entry GHSA-0000-0000-0000 matched no finding');
      expect(text.stdout).toContain('(ignored: only parses our own constants)');

      writeFileSync(config, readFileSync(config, 'utf8').replace('expires: 2999-12-31 }', 'expires: 2020-01-31 }'));
      const expired = await audit(['-p', 'backend']);
      expect(expired.exitCode).toBe(1);
      expect(expired.stderr).toContain(`✖ audit.ignore entry ${MS_HIGH} expired on 2020-01-31`);
    } finally {
      rmSync(config, { force: true });
    }
  });
});

describe('opsctl audit: the registry unreachable', () => {
  it('a refusing audit endpoint is exit 4, after printing what the other sources found', async () => {
    const refusing = await advisoryServer((_req, res) => res.writeHead(401).end(`{"error":"bad token ${TOKEN}"}`));
    writeFileSync(join(root, 'backend/.npmrc'), `//127.0.0.1:${refusing.port}/:_authToken=${TOKEN}\n`);
    try {
      const env = { npm_config_registry: refusing.url };
      const res = await audit(['-p', 'backend'], env);
      expect(res.exitCode).toBe(4);
      expect(res.stderr).toMatch(/✖ An advisory source could not be used: npm \(backend\): .*401/);
      expect(res.stderr).toContain('→ Check the network');
      expect(hasStackTrace(res.stderr)).toBe(false);
      const json = await audit(['-p', 'backend', '--json'], env);
      expect(json.exitCode).toBe(4);
      const doc = JSON.parse(json.stdout);
      expect(doc.error.code).toBe('SOURCE_UNREACHABLE');
      expect(doc.sources[0]).toMatchObject({ source: 'npm', unreachable: [{ package: 'backend' }] });
      expect(refusing.hits[0]?.auth).toBe(`Bearer ${TOKEN}`);
    } finally {
      rmSync(join(root, 'backend/.npmrc'));
      await refusing.close();
    }
  });

  it('npm failing on a package itself (a corrupt lockfile) is exit 3, the other packages still reported', async () => {
    const manifest = join(root, 'frontend/package-lock.json');
    const saved = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, '{ "name": "audit-frontend", ');
    try {
      const res = await audit(['-p', 'frontend,backend', '--json']);
      expect(res.exitCode).toBe(3);
      const doc = JSON.parse(res.stdout);
      expect(doc.error.code).toBe('SOURCE_FAILED');
      expect(doc.error.message).toContain('npm (frontend)');
      expect(doc.findings.filter((f: { package: string }) => f.package === 'backend')).toHaveLength(2);
    } finally {
      writeFileSync(manifest, saved);
    }
  });

  it('a closed port is exit 4', async () => {
    const res = await audit(['-p', 'frontend', '--json'], { npm_config_registry: 'http://127.0.0.1:9/' });
    expect(res.exitCode).toBe(4);
    expect(JSON.parse(res.stdout).error.message).toContain('ECONNREFUSED');
  });
});

afterAll(() => {
  // tokens never printed, in any output of this file
  for (const o of outputs) expect(o).not.toContain(TOKEN);
});
