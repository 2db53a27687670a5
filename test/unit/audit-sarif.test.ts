import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpmAudit } from '../../src/audit/npm-audit.js';
import { toSarif } from '../../src/audit/sarif.js';
import { parseSnyk } from '../../src/audit/snyk.js';
import type { Finding } from '../../src/audit/types.js';
import { validateSarif } from '../helpers/sarif.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/audit');
const read = (f: string) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8'));

describe('SARIF output', () => {
  it('is valid SARIF 2.1.0 for npm, Snyk and code findings, ignored ones suppressed', () => {
    const code: Finding = {
      id: 'crypto/deprecated-cipher',
      source: 'code',
      sources: ['code'],
      aliases: ['crypto/deprecated-cipher'],
      package: 'backend',
      severity: 'high',
      title: 'crypto.createCipher derives its key and IV from a password with MD5',
      file: 'backend/utils/encryption.js',
      line: 12,
      hint: 'Use crypto.createCipheriv with aes-256-gcm and a random IV per message.',
      ignored: false,
    };
    const npm = parseNpmAudit(read('nashaddams-npm-audit-json-with-cwe-cvss.json'), 'frontend').map((f, i) =>
      i === 0 ? { ...f, ignored: true, ignoreReason: 'no fix yet' } : f,
    );
    const findings = [...npm, ...parseSnyk(read('test-json-npm-vulns.json'), 'backend'), code];
    const log = toSarif(findings, { version: '0.1.0', packagePaths: { frontend: 'frontend', backend: 'backend' } });
    expect(validateSarif(log)).toEqual([]);
    const results = log.runs[0]!.results!;
    expect(results).toHaveLength(findings.length);
    expect(results[0]!.suppressions).toEqual([{ kind: 'external', justification: 'no fix yet' }]);
    expect(results.at(-1)!.locations![0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'backend/utils/encryption.js' },
      region: { startLine: 12 },
    });
    expect(results[1]!.locations![0]!.physicalLocation!.artifactLocation!.uri).toBe('frontend/package.json');
  });

  it('a log the schema rejects is caught (the validator is live)', () => {
    expect(validateSarif({ version: '2.1.0', runs: [{ tool: {} }] }).length).toBeGreaterThan(0);
  });
});
