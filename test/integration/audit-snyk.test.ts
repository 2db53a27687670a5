import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryServer } from '../helpers/advisory-server.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { type SnykAnswer, snykStandIn } from '../helpers/snyk-stand-in.js';

const APP = join(import.meta.dirname, '../fixtures/audit/snyk-app');
const SNYK_TOKEN = 'snyk-token-0f9e8d7c-6b5a';
const STORED_TOKEN = 'stored-snyk-token-31aa57';
// Snyk prints `{ok: false, error, path}` for a failed run (exit 2) and for no supported project (exit 3); not recorded
const FAILED: SnykAnswer = {
  exit: 2,
  text: '{\n  "ok": false,\n  "error": "Connection timeout when trying to reach api.snyk.io",\n  "path": "."\n}\n',
};
const NO_PROJECT: SnykAnswer = {
  exit: 3,
  text: '{\n  "ok": false,\n  "error": "Could not detect supported target files",\n  "path": "."\n}\n',
};

let root: string;
let work: string;
let server: Awaited<ReturnType<typeof advisoryServer>>;
const outputs: string[] = [];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-audit-snyk-'));
  work = mkdtempSync(join(tmpdir(), 'opsctl-snyk-bin-'));
  cpSync(APP, root, { recursive: true });
  server = await advisoryServer();
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  for (const o of outputs) {
    expect(o).not.toContain(SNYK_TOKEN);
    expect(o).not.toContain(STORED_TOKEN);
  }
});

async function audit(args: string[], plan: Record<string, SnykAnswer> | undefined, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(work, 'run-'));
  const stand = plan ? snykStandIn(dir, plan) : undefined;
  const res = await opsctl(['audit', '--no-code', '-C', root, ...args], {
    env: {
      npm_config_registry: server.url,
      npm_config_fetch_retries: '0',
      // no snyk of the machine, no stored snyk login
      PATH: [stand?.bin, '/usr/bin', '/bin', join(process.execPath, '..')].filter(Boolean).join(delimiter),
      XDG_CONFIG_HOME: join(dir, 'config'),
      SNYK_TOKEN,
      ...env,
    },
    timeoutMs: 120_000,
  });
  outputs.push(res.stdout, res.stderr);
  const calls = stand
    ? readFileSync(stand.calls, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { cwd: string; args: string[]; token: string })
    : [];
  return { ...res, calls };
}

type JsonFinding = { id: string; package: string; dependency?: string; severity: string; sources: string[] };

describe('opsctl audit with Snyk (a stand-in printing recorded output)', () => {
  it('exit 1 (vulnerabilities): merged with npm by GHSA, medium is moderate, one finding per issue', async () => {
    const res = await audit(['--json'], {
      backend: { exit: 1, file: 'test-json-npm-vulns.json' },
      '*': { exit: 0, file: 'test-json-npm-ok-true.json' },
    });
    expect(res.exitCode).toBe(1);
    expect(res.calls.map((c) => c.cwd).sort()).toEqual(['backend', 'frontend']);
    expect(res.calls[0]).toMatchObject({ args: ['test', '--json', '--dev'], token: 'set' });
    const doc = JSON.parse(res.stdout);
    const findings = doc.findings as JsonFinding[];
    // mime: npm (GHSA-wrvr-8mpx-r7pp, high) and Snyk (npm:mime:20170907, low, listed on two paths) are one finding
    const mime = findings.filter((f) => f.dependency === 'mime');
    expect(mime).toHaveLength(1);
    expect(mime[0]).toMatchObject({ id: 'GHSA-wrvr-8mpx-r7pp', sources: ['npm', 'snyk'], severity: 'high' });
    // connect's DoS is Snyk's alone (no GHSA): its Snyk id, medium said as moderate
    const connect = findings.find((f) => f.id === 'npm:connect:20120107');
    expect(connect).toMatchObject({
      source: 'snyk',
      severity: 'moderate',
      fixedIn: '2.0.0',
      path: ['express', 'connect'],
    });
    // Snyk lists 11 paths for 7 issues; every issue once
    const snykOnly = findings.filter((f) => f.sources.includes('snyk'));
    expect(snykOnly).toHaveLength(7);
    expect(findings.every((f) => ['low', 'moderate', 'high', 'critical'].includes(f.severity))).toBe(true);
    expect(doc.sources.find((s: { source: string }) => s.source === 'snyk')).toMatchObject({ status: 'used' });
  });

  it('exit 0 (nothing found) and --omit dev (no --dev)', async () => {
    const res = await audit(['--json', '--omit', 'dev', '-p', 'frontend'], {
      '*': { exit: 0, file: 'test-json-npm-ok-true.json' },
    });
    expect(res.exitCode).toBe(0);
    expect(res.calls).toEqual([{ cwd: 'frontend', args: ['test', '--json'], token: 'set' }]);
    expect(JSON.parse(res.stdout).findings).toEqual([]);
  });

  it('exit 3 (no supported project) is a note, not a failure', async () => {
    const res = await audit(['-p', 'frontend', '--snyk'], { '*': NO_PROJECT });
    expect(res.exitCode).toBe(0);
    expect(res.stderr).toContain('frontend: Snyk found no supported project to test (snyk exit 3).');
  });

  it('exit 2 (failure): exit 4 under --snyk after the npm findings; a warning by default', async () => {
    const required = await audit(['-p', 'backend', '--snyk'], { '*': FAILED });
    expect(required.exitCode).toBe(4);
    expect(required.stdout).toContain('GHSA-wrvr-8mpx-r7pp'); // npm's findings were shown first
    expect(required.stderr).toContain('snyk test failed (exit 2): Connection timeout');
    expect(required.stderr).toContain('snyk auth');
    expect(hasStackTrace(required.stderr)).toBe(false);

    const auto = await audit(['-p', 'backend'], { '*': FAILED });
    expect(auto.exitCode).toBe(1); // npm's high findings
    expect(auto.stderr).toContain('⚠ Snyk (backend): snyk test failed (exit 2)');
  });

  it('not installed: --snyk is exit 4 with how to install; the default says it is not used; --no-snyk never calls it', async () => {
    const required = await audit(['-p', 'frontend', '--snyk', '--json'], undefined);
    expect(required.exitCode).toBe(4);
    const doc = JSON.parse(required.stdout);
    expect(doc.error.message).toContain(
      'Snyk is required (--snyk) but no snyk executable on PATH or in node_modules/.bin',
    );
    expect(doc.error.hint).toContain('Install the Snyk CLI');

    const auto = await audit(['-p', 'frontend'], undefined);
    expect(auto.exitCode).toBe(0);
    expect(auto.stderr).toContain('ℹ Snyk not used: no snyk executable on PATH or in node_modules/.bin.');

    const skipped = await audit(['-p', 'frontend', '--no-snyk'], { '*': FAILED });
    expect(skipped.exitCode).toBe(0);
    expect(skipped.calls).toEqual([]);
  });

  it('installed but not authenticated: --snyk is exit 4 naming `snyk auth`; a stored `snyk auth` token counts', async () => {
    const res = await audit(
      ['-p', 'frontend', '--snyk'],
      { '*': { exit: 0, file: 'test-json-npm-ok-true.json' } },
      { SNYK_TOKEN: '' },
    );
    expect(res.exitCode).toBe(4);
    expect(res.stderr).toContain('snyk is not authenticated');
    expect(res.calls).toEqual([]);

    const config = mkdtempSync(join(work, 'xdg-'));
    mkdirSync(join(config, 'configstore'));
    writeFileSync(join(config, 'configstore/snyk.json'), JSON.stringify({ api: STORED_TOKEN }));
    const stored = await audit(
      ['-p', 'frontend', '--snyk', '--debug'],
      { '*': { exit: 0, file: 'test-json-npm-ok-true.json' } },
      { SNYK_TOKEN: '', XDG_CONFIG_HOME: config },
    );
    expect(stored.exitCode).toBe(0);
    expect(stored.calls).toHaveLength(1);
  });
});
