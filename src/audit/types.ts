/** npm's severity words, lowest first (README, "`opsctl audit`"). */
export const SEVERITIES = ['low', 'moderate', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export type FindingSource = 'npm' | 'snyk' | 'code';

/** One finding of `opsctl audit` (README, "`opsctl audit`", JSON shape). */
export interface Finding {
  /** GHSA id when known, else CVE, else the source's own id (Snyk id, npm advisory URL); a rule id for code. */
  id: string;
  source: FindingSource;
  /** Every source that reported it (a merged finding lists more than one). */
  sources: FindingSource[];
  /** Every identifier known for it (GHSA, CVE, Snyk ids): what `audit.ignore` matches and merging uses. */
  aliases: string[];
  /** The app package it was found in. */
  package: string;
  severity: Severity;
  /** The vulnerable dependency and its installed version. */
  dependency?: string;
  version?: string;
  title: string;
  fixedIn?: string;
  /** How the dependency is reached from the package: ["express", "qs"]. */
  path?: string[];
  url?: string;
  /** Code findings: file relative to the app root, 1-based line, and what to do. */
  file?: string;
  line?: number;
  hint?: string;
  ignored: boolean;
  /** The ignore entry's reason, when ignored. */
  ignoreReason?: string;
}

/** What one advisory source produced: its findings, and per package why it could not answer, if so. */
export interface SourceResult {
  findings: Finding[];
  /**
   * Packages the source could not audit: unreachable or refused us (exit 4), or, with `failed`, the tool itself
   * failed there (a broken package.json: exit 3).
   */
  unreachable: Array<{ package: string; message: string; failed?: boolean; hint?: string }>;
  /** Notes for people (a package Snyk found nothing to test in, a package audited without a lockfile). */
  notes: string[];
}

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Snyk and others say `medium`; npm says `moderate` (README, "JSON shapes"). */
export function toNpmSeverity(word: string): Severity {
  const w = word.toLowerCase();
  if (w === 'medium') return 'moderate';
  if (w === 'info') return 'low';
  return (SEVERITIES as readonly string[]).includes(w) ? (w as Severity) : 'low';
}
