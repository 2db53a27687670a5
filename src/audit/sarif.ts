import type { Log, ReportingDescriptor, Result } from 'sarif';
import type { Finding, Severity } from './types.js';

const LEVEL: Record<Severity, Result.level> = { critical: 'error', high: 'error', moderate: 'warning', low: 'note' };

/**
 * A SARIF 2.1.0 log for code-scanning upload: one rule per finding id, one result per finding. A dependency
 * finding points at its package's package.json (code scanning wants a file); ignored ones carry a suppression.
 */
export function toSarif(findings: Finding[], options: { version: string; packagePaths: Record<string, string> }): Log {
  const rules = new Map<string, ReportingDescriptor>();
  for (const f of findings) {
    if (rules.has(f.id)) continue;
    rules.set(f.id, {
      id: f.id,
      shortDescription: { text: f.title },
      ...(f.url ? { helpUri: f.url } : {}),
      ...(f.hint ? { help: { text: f.hint } } : {}),
      properties: { 'security-severity': SCORE[f.severity], tags: ['security', f.source] },
    });
  }
  const ruleIds = [...rules.keys()];
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'opsctl audit',
            version: options.version,
            informationUri: 'https://www.npmjs.com/package/opsctl',
            rules: [...rules.values()],
          },
        },
        results: findings.map((f) => ({
          ruleId: f.id,
          ruleIndex: ruleIds.indexOf(f.id),
          level: LEVEL[f.severity],
          message: { text: messageOf(f) },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: uriOf(f, options.packagePaths) },
                ...(f.line ? { region: { startLine: f.line } } : {}),
              },
            },
          ],
          ...(f.ignored ? { suppressions: [{ kind: 'external', justification: f.ignoreReason ?? '' }] } : {}),
          properties: {
            severity: f.severity,
            package: f.package,
            sources: f.sources,
            ...(f.dependency ? { dependency: f.dependency, version: f.version, fixedIn: f.fixedIn } : {}),
          },
        })),
      },
    ],
  };
}

/** GitHub code scanning reads `security-severity` (a CVSS-like score) to rank results. */
const SCORE: Record<Severity, string> = { critical: '9.5', high: '8.0', moderate: '5.5', low: '2.0' };

function messageOf(f: Finding): string {
  if (!f.dependency) return f.hint ? `${f.title} ${f.hint}` : f.title;
  const fix = f.fixedIn ? ` Fixed in ${f.fixedIn}.` : ' No fixed version yet.';
  return `${f.dependency}${f.version ? `@${f.version}` : ''} in ${f.package}: ${f.title}.${fix}`;
}

function uriOf(f: Finding, packagePaths: Record<string, string>): string {
  if (f.file) return f.file;
  const dir = packagePaths[f.package] ?? '.';
  return dir === '.' ? 'package.json' : `${dir}/package.json`;
}
