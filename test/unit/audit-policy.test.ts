import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeFindings } from '../../src/audit/merge.js';
import { parseNpmAudit } from '../../src/audit/npm-audit.js';
import { applyPolicy } from '../../src/audit/policy.js';
import { parseSnyk } from '../../src/audit/snyk.js';
import type { Finding } from '../../src/audit/types.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/audit');
const read = (f: string) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8'));
// a fixed clock: the entries below expire before, on and after it
const NOW = new Date('2026-06-15T12:00:00Z');

function finding(id: string, severity: Finding['severity'], aliases: string[] = []): Finding {
  return {
    id,
    source: 'npm',
    sources: ['npm'],
    aliases: [id, ...aliases],
    package: 'backend',
    severity,
    title: id,
    ignored: false,
  };
}

describe('audit policy', () => {
  it('fails on unignored findings at or above the level; ignored ones stay, marked', () => {
    const findings = [
      finding('GHSA-aaaa-bbbb-cccc', 'high'),
      finding('GHSA-dddd-eeee-ffff', 'moderate', ['CVE-2020-1']),
    ];
    const out = applyPolicy(findings, {
      level: 'moderate',
      ignore: [{ id: 'CVE-2020-1', reason: 'not reachable from our code', expires: '2026-06-15' }],
      now: NOW,
    });
    expect(out.failing.map((f) => f.id)).toEqual(['GHSA-aaaa-bbbb-cccc']);
    expect(out.findings[1]).toMatchObject({ ignored: true, ignoreReason: 'not reachable from our code' });
    expect(out.expired).toEqual([]);
    expect(out.unused).toEqual([]);
    expect(applyPolicy(findings, { level: 'critical', ignore: [], now: NOW }).failing).toEqual([]);
    expect(applyPolicy(findings, { level: 'low', ignore: [], now: NOW }).failing).toHaveLength(2);
  });

  it('an expired entry ignores nothing and is reported; an unused one is reported apart', () => {
    const findings = [finding('GHSA-aaaa-bbbb-cccc', 'low')];
    const out = applyPolicy(findings, {
      level: 'high',
      ignore: [
        { id: 'GHSA-aaaa-bbbb-cccc', reason: 'waiting for upstream', expires: '2026-06-14' },
        { id: 'GHSA-zzzz-zzzz-zzzz', reason: 'old', expires: '2027-01-31' },
      ],
      now: NOW,
    });
    expect(out.expired.map((e) => e.id)).toEqual(['GHSA-aaaa-bbbb-cccc']);
    expect(out.findings[0]!.ignored).toBe(false);
    expect(out.unused.map((e) => e.id)).toEqual(['GHSA-zzzz-zzzz-zzzz']);
  });

  it('a malformed date is a usage error naming the entry', () => {
    expect(() =>
      applyPolicy([], { level: 'high', ignore: [{ id: 'x', reason: 'y', expires: 'next year' }], now: NOW }),
    ).toThrow(/audit\.ignore\[0\]\.expires: expected a date/);
  });
});

describe('parsing and merging recorded outputs', () => {
  it('npm audit --json (npm 10): one finding per advisory, GHSA from the URL, fixed-in from the range', () => {
    const findings = parseNpmAudit(read('nashaddams-npm-audit-json-with-cwe-cvss.json'), 'backend');
    const axios = findings.find((f) => f.dependency === 'axios');
    expect(axios).toMatchObject({ id: 'GHSA-8hc4-vh64-cxmj', severity: 'high', fixedIn: '1.7.9', path: ['axios'] });
    const bodyParser = findings.find((f) => f.dependency === 'body-parser');
    expect(bodyParser).toMatchObject({ id: 'GHSA-qwcr-r2fm-qrc7', fixedIn: '1.20.3' });
    expect(new Set(findings.map((f) => `${f.dependency} ${f.id}`)).size).toBe(findings.length);
  });

  it('snyk test --json: medium is moderate, one finding per issue and dependency, GHSA as id', () => {
    const findings = parseSnyk(read('test-json-npm-vulns.json'), 'backend');
    expect(findings).toHaveLength(7);
    expect(findings.find((f) => f.aliases.includes('npm:connect:20130701'))).toMatchObject({
      id: 'GHSA-3fw8-66wf-pr7m',
      severity: 'moderate',
      fixedIn: '2.8.2',
      aliases: expect.arrayContaining(['CVE-2013-7370', 'SNYK-JS-CONNECT-10005']),
    });
    expect(parseSnyk(read('test-json-npm-ok-true.json'), 'frontend')).toEqual([]);
  });

  it('merges across sources by a shared GHSA or CVE, never two advisories of one source', () => {
    const npm: Finding = { ...finding('GHSA-gqgv-6jq5-jjj9', 'high'), dependency: 'qs', package: 'backend' };
    const snyk = parseSnyk(read('test-json-npm-vulns.json'), 'backend');
    const merged = mergeFindings([[npm], snyk]);
    const qs = merged.filter((f) => f.dependency === 'qs');
    // Snyk's three qs issues: the first naming GHSA-gqgv joins npm's; the other two stay their own
    expect(qs).toHaveLength(3);
    expect(qs[0]).toMatchObject({ id: 'GHSA-gqgv-6jq5-jjj9', sources: ['npm', 'snyk'], severity: 'high' });
    expect(merged).toHaveLength(7);
  });
});
