import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryServer } from '../helpers/advisory-server.js';
import { opsctl } from '../helpers/cli.js';

/**
 * The example app (examples/shop) carries one vulnerable dependency and one code finding on purpose
 * (examples/shop/README.md), so `opsctl audit` and `npm run demo` have something to show; its AES-256-GCM
 * module stays finding-free. Real `npm audit` against the local advisory server (recorded registry answers).
 */

const EXAMPLE = fileURLToPath(new URL('../../examples/shop', import.meta.url));
// a developer's demo .env (the generated ENCRYPTION_KEY) is not part of the app; outside git it would ship
const EXCLUDED = new Set(['node_modules', '.opsctl', 'dist', '.env']);
const MS_HIGH = 'GHSA-3fx5-fwvr-xrjg';
const MS_MODERATE = 'GHSA-w9mr-4mfr-499f';
const ENCRYPTION = 'backend/utils/encryption.js';
const ON_PURPOSE_FILE = 'backend/utils/session.js';

interface Finding {
  id: string;
  source: string;
  package: string;
  severity: string;
  dependency?: string;
  version?: string;
  file?: string;
  line?: number;
  ignored: boolean;
}

let app: string;
let server: Awaited<ReturnType<typeof advisoryServer>>;

async function audit(args: string[] = []) {
  const res = await opsctl(['audit', '--no-snyk', '--json', '-C', app, ...args], {
    env: { npm_config_registry: server.url, npm_config_fetch_retries: '0' },
    timeoutMs: 120_000,
  });
  return { ...res, doc: JSON.parse(res.stdout) as { exitCode: number; findings: Finding[] } };
}

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'opsctl-shop-audit-'));
  cpSync(EXAMPLE, app, {
    recursive: true,
    filter: (src) => !EXCLUDED.has(basename(src)) && !src.endsWith('.log'),
  });
  server = await advisoryServer();
});

afterAll(async () => {
  await server?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

describe('opsctl audit on the example app (examples/shop)', () => {
  it('finds the vulnerable dependency and the code finding put there on purpose, and nothing else', async () => {
    const { exitCode, stderr, doc } = await audit();
    expect(exitCode, stderr).toBe(1);
    expect(doc.exitCode).toBe(1);

    const npm = doc.findings.filter((f) => f.source === 'npm');
    expect(npm.map((f) => `${f.package} ${f.dependency}@${f.version} ${f.id} ${f.severity}`).sort()).toEqual([
      `backend ms@0.7.0 ${MS_HIGH} high`,
      `backend ms@0.7.0 ${MS_MODERATE} moderate`,
    ]);

    const code = doc.findings.filter((f) => f.source === 'code');
    const source = readFileSync(join(app, ON_PURPOSE_FILE), 'utf8').split('\n');
    const line = source.findIndex((l) => l.includes("process.env.SESSION_SECRET || 'dev-session-secret'")) + 1;
    expect(line).toBeGreaterThan(0);
    expect(code).toEqual([
      expect.objectContaining({
        id: 'secrets/env-fallback',
        package: 'backend',
        severity: 'high',
        file: ON_PURPOSE_FILE,
        line,
        ignored: false,
      }),
    ]);
    expect(doc.findings.filter((f) => f.file === ENCRYPTION)).toEqual([]);
    // a finding says where a secret is, never its value
    expect(JSON.stringify(doc)).not.toContain('dev-session-secret');
  });

  it('does read the encryption module: a static IV put there is found (so the clean result above means something)', async () => {
    const path = join(app, ENCRYPTION);
    const sound = readFileSync(path, 'utf8');
    expect(sound).toContain('randomBytes(IV_BYTES)');
    writeFileSync(path, sound.replace('randomBytes(IV_BYTES)', 'Buffer.alloc(IV_BYTES)'));
    try {
      const { doc } = await audit(['--level', 'critical']);
      expect(doc.findings.filter((f) => f.file === ENCRYPTION).map((f) => f.id)).toEqual(['crypto/static-iv']);
    } finally {
      writeFileSync(path, sound);
    }
  });
});
