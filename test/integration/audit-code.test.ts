import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditCode } from '../../src/audit/code/audit-code.js';
import type { AppPackage } from '../../src/packages/types.js';
import { createRunner } from '../../src/process/runner.js';
import { advisoryServer } from '../helpers/advisory-server.js';
import { opsctl } from '../helpers/cli.js';
import { validateSarif } from '../helpers/sarif.js';

const CODE = join(import.meta.dirname, '../fixtures/audit/code');
// every secret value written in the fixtures: none may appear in a finding
const SECRETS = [
  's3cr3t-prod-pass',
  'k3y-from-the-2019-prototype',
  '9f86d081884c7d659a2feaa0c55ad015',
  'S3cure-but-committed',
  'dev-key',
  'local-token-123',
  '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',
  readFileSync(join(CODE, 'positive/server.key'), 'utf8').split('\n')[1]!,
];

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function copy(): string {
  const root = mkdtempSync(join(tmpdir(), 'opsctl-code-'));
  roots.push(root);
  cpSync(CODE, root, { recursive: true });
  return root;
}

function pkg(name: string, path: string, root: string): AppPackage {
  return {
    name,
    path,
    dir: join(root, path),
    scripts: {},
    dependencies: {},
    devDependencies: {},
    dependsOn: [],
    env: {},
    outputs: ['dist', 'build'],
  };
}

/** `// expect: rule` markers of the positive fixtures, as "file:line rule". */
function markers(): string[] {
  const out: string[] = [];
  for (const file of readdirSync(join(CODE, 'positive'))) {
    if (!/\.[jt]s$/.test(file)) continue;
    readFileSync(join(CODE, 'positive', file), 'utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = /expect: (\S+)/.exec(line);
        if (m) out.push(`positive/${file}:${i + 1} ${m[1]}`);
      });
  }
  return out;
}

const NON_JS = [
  'positive/.env:2 secrets/committed-env',
  'positive/package.json:7 scripts/inspector-public',
  'positive/package.json:8 tls/verification-disabled',
  'positive/server.key:1 secrets/private-key',
];

describe('code audit (oxc-parser, secretlint preset)', () => {
  it('finds every true positive and nothing in the near misses, node_modules, build output or vendored code', async () => {
    const root = copy(); // not a git work tree: every file present ships with the source
    const { findings, filesScanned } = await auditCode(
      root,
      [pkg('positive', 'positive', root), pkg('negative', 'negative', root)],
      createRunner(),
    );
    const got = findings.map((f) => `${f.file}:${f.line} ${f.id}`).sort();
    expect(got).toEqual([...markers(), ...NON_JS].sort());
    expect(findings.every((f) => f.source === 'code' && f.hint && f.title && !f.ignored)).toBe(true);
    expect(findings.find((f) => f.file === 'positive/ecb.js')).toMatchObject({ package: 'positive', severity: 'high' });
    expect(filesScanned).toBeGreaterThan(15);
    const text = JSON.stringify(findings);
    for (const s of SECRETS) expect(text).not.toContain(s);
  });

  it('in a git work tree, .env files count when tracked (ignored-but-tracked included), not when only present', async () => {
    const root = copy();
    const git = (...args: string[]) => execFileSync('git', args, { cwd: root, stdio: 'pipe' });
    git('init', '-q');
    writeFileSync(join(root, '.gitignore'), '.env*\n!.env.example\nnode_modules/\ndist/\n');
    writeFileSync(join(root, 'positive/.env.local'), 'STRIPE_SECRET=sk_live_made_up_value_123\n');
    git('add', '-A');
    git('add', '-f', 'positive/.env'); // ignored, yet tracked: it ships
    const { findings } = await auditCode(root, [pkg('positive', 'positive', root)], createRunner());
    const envFindings = findings.filter((f) => f.id === 'secrets/committed-env').map((f) => f.file);
    expect(envFindings).toEqual(['positive/.env']);
    expect(findings.some((f) => f.file?.includes('node_modules') || f.file?.includes('dist/'))).toBe(false);
  });
});

describe('opsctl audit over the code fixtures (the built CLI)', () => {
  it('prints code findings in the table, JSON and SARIF, and never a secret value', async () => {
    const root = copy();
    const server = await advisoryServer();
    try {
      const env = { npm_config_registry: server.url, npm_config_fetch_retries: '0' };
      const sarif = join(root, 'out.sarif');
      const text = await opsctl(['audit', '--no-snyk', '-C', root, '--sarif', sarif], { env });
      const json = await opsctl(['audit', '--no-snyk', '-C', root, '--json', '--debug'], { env });
      expect(text.exitCode).toBe(1);
      expect(text.stdout).toMatch(/CRITICAL \(1\)\n/);
      expect(text.stdout).toMatch(/positive\/ecb\.js:4\s+ECB mode/);
      const doc = JSON.parse(json.stdout);
      expect(doc.findings.find((f: { id: string }) => f.id === 'crypto/ecb-mode')).toMatchObject({
        source: 'code',
        package: 'positive',
        file: 'positive/ecb.js',
        line: 4,
        severity: 'high',
        ignored: false,
      });
      const log = readFileSync(sarif, 'utf8');
      expect(validateSarif(JSON.parse(log))).toEqual([]);
      for (const output of [text.stdout, text.stderr, json.stdout, json.stderr, log]) {
        for (const s of SECRETS) expect(output).not.toContain(s);
      }
    } finally {
      await server.close();
    }
  });
});
