import type { AppPackage } from '../packages/types.js';
import type { Runner } from '../process/runner.js';
import type { Unparsed } from './code/audit-code.js';
import { mergeFindings } from './merge.js';
import { npmAudit } from './npm-audit.js';
import { applyPolicy, type IgnoreEntry, type PolicyOutcome } from './policy.js';
import { findSnyk, snykTest } from './snyk.js';
import type { Finding, Severity, SourceResult } from './types.js';

/** `require` is `--snyk`, `skip` is `--no-snyk`, `auto` uses Snyk when it is installed and authenticated. */
export type SnykMode = 'require' | 'skip' | 'auto';

export interface AuditOptions {
  root: string;
  packages: AppPackage[];
  /** Every package of the app (`packages` is the `-p` selection); defaults to `packages`. */
  appPackages?: AppPackage[];
  runner: Runner;
  concurrency: number;
  omitDev: boolean;
  snyk: SnykMode;
  code: boolean;
  level: Severity;
  ignore: IgnoreEntry[];
  now?: Date;
}

/** How each source went: `used`, `skipped` (by flag), `unavailable` (not installed or not authenticated). */
export interface SourceStatus {
  source: 'npm' | 'snyk' | 'code';
  status: 'used' | 'skipped' | 'unavailable';
  reason?: string;
  /** Packages it could not audit (unreachable, refused us; `failed`: the tool failed on the package itself). */
  unreachable: SourceResult['unreachable'];
  /** Whether its failure makes the run exit 4 (README, "Exit codes"). */
  required: boolean;
  /** Wall time of this source (they run concurrently). */
  durationMs: number;
  /** The code audit: how many files it read. */
  filesScanned?: number;
  /** The code audit: files it could not parse (a syntax error) or that are binary; the rest was audited. */
  unparsed?: Unparsed[];
}

export interface AuditReport extends PolicyOutcome {
  sources: SourceStatus[];
  notes: string[];
  /** Code findings only: how many files were read. */
  filesScanned: number;
}

/** Every source concurrently, merged, then the policy. A source that fails leaves the others' findings intact. */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  const { packages, concurrency, omitDev, runner } = options;
  const snyk = options.snyk === 'skip' ? undefined : findSnyk(options.root);
  const useSnyk = snyk?.bin && snyk.authenticated;
  const empty: SourceResult = { findings: [], unreachable: [], notes: [] };
  const ms: Record<'npm' | 'snyk' | 'code', number> = { npm: 0, snyk: 0, code: 0 };
  const timed = async <T>(name: keyof typeof ms, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      ms[name] = Math.round(performance.now() - started);
    }
  };
  const [npm, fromSnyk, code] = await Promise.all([
    timed('npm', () => npmAudit(packages, { runner, concurrency, omitDev, batch: true })),
    useSnyk ? timed('snyk', () => snykTest(packages, { runner, bin: snyk.bin!, concurrency, omitDev })) : empty,
    options.code
      ? timed('code', () =>
          import('./code/audit-code.js').then((m) => m.auditCode(options.root, packages, runner, options.appPackages)),
        )
      : { findings: [] as Finding[], filesScanned: 0, unparsed: [] as Unparsed[] },
  ]);
  const sources: SourceStatus[] = [
    { source: 'npm', status: 'used', unreachable: npm.unreachable, required: true, durationMs: ms.npm },
    {
      source: 'snyk',
      status: options.snyk === 'skip' ? 'skipped' : useSnyk ? 'used' : 'unavailable',
      ...(snyk?.reason && !useSnyk ? { reason: snyk.reason } : {}),
      unreachable: fromSnyk.unreachable,
      required: options.snyk === 'require',
      durationMs: ms.snyk,
    },
    {
      source: 'code',
      status: options.code ? 'used' : 'skipped',
      unreachable: [],
      required: false,
      durationMs: ms.code,
      filesScanned: code.filesScanned,
      ...(code.unparsed.length ? { unparsed: code.unparsed } : {}),
    },
  ];
  const merged = mergeFindings([npm.findings, fromSnyk.findings, code.findings]);
  const outcome = applyPolicy(merged, { level: options.level, ignore: options.ignore, now: options.now });
  return { ...outcome, sources, notes: [...npm.notes, ...fromSnyk.notes], filesScanned: code.filesScanned };
}
