import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import chalk from 'chalk';
import { type AuditReport, runAudit, type SnykMode } from '../../src/audit/run-audit.js';
import { toSarif } from '../../src/audit/sarif.js';
import { type Finding, SEVERITIES, type Severity } from '../../src/audit/types.js';
import { ExitCode, type ExitCodeValue, errorMessage, OpsError, usageError } from '../../src/errors.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out, table } from '../shared/output.js';
import { version } from '../shared/version.js';

export interface AuditOptions extends GlobalOptions {
  level?: Severity;
  snyk?: boolean;
  code?: boolean;
  omit?: 'dev';
  sarif?: string;
}

const DEFAULT_CONCURRENCY = 4;
const COLOUR: Record<Severity, (s: string) => string> = {
  critical: chalk.magenta,
  high: chalk.red,
  moderate: chalk.yellow,
  low: chalk.dim,
};
const SNYK_HINT =
  'Install the Snyk CLI (https://docs.snyk.io/snyk-cli/install-or-update-the-snyk-cli) and authenticate with `snyk auth` or SNYK_TOKEN; or run with --no-snyk.';

/** `opsctl audit`: every source, merged, under the policy; exit 1 on findings, 4 on a requested source unreachable. */
export function audit(cmd: Invocation<AuditOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const opts = cli.opts;
    const config = cli.config();
    const level = opts.level ?? config.audit.level ?? 'high';
    const snyk: SnykMode = opts.snyk === true ? 'require' : opts.snyk === false ? 'skip' : 'auto';
    const sarif = opts.sarif === undefined ? undefined : sarifTarget(opts.sarif); // refused before a long audit
    if (!cli.json) err(`Auditing ${config.packages.length} package(s)…`);
    const report = await runAudit({
      root: config.root,
      packages: config.packages,
      appPackages: config.appPackages,
      runner: cli.runner,
      concurrency: opts.concurrency ?? DEFAULT_CONCURRENCY,
      omitDev: opts.omit === 'dev',
      snyk,
      code: opts.code !== false,
      level,
      ignore: config.audit.ignore ?? [],
    });
    if (sarif) {
      const packagePaths = Object.fromEntries(config.packages.map((p) => [p.name, p.path]));
      const log = `${JSON.stringify(toSarif(report.findings, { version: version(), packagePaths }), null, 2)}\n`;
      try {
        writeFileSync(sarif, log);
      } catch (error) {
        throw usageError(`--sarif ${opts.sarif}: cannot write the file (${errorMessage(error)}).`, SARIF_HINT);
      }
    }
    const problems = report.sources.filter((s) => s.required).flatMap((s) => s.unreachable);
    const unreachable = problems.some((u) => !u.failed);
    const snykMissing = snyk === 'require' && report.sources.find((s) => s.source === 'snyk')?.status !== 'used';
    const exitCode =
      unreachable || snykMissing
        ? ExitCode.unreachable
        : problems.length
          ? ExitCode.failed
          : report.failing.length || report.expired.length
            ? ExitCode.findings
            : ExitCode.ok;
    const failure =
      unreachable || snykMissing || problems.length ? sourceError(report, Boolean(snykMissing), exitCode) : undefined;
    if (cli.json) {
      const fields = {
        level,
        findings: report.findings.map(jsonFinding),
        sources: report.sources.map(({ required: _, ...s }) => s),
        expiredIgnores: report.expired,
        unusedIgnores: report.unused,
        ...(failure ? { error: { code: failure.code, message: failure.message, hint: failure.hint } } : {}),
      };
      return cli.finish(exitCode, fields);
    }
    printReport(report, level, snyk, Boolean(failure));
    if (failure) cli.fail(failure, {});
    return exitCode;
  });
}

const SARIF_HINT = 'Name a file in a folder that exists and you can write to, e.g. --sarif audit.sarif.';

/** The SARIF file to write: a file (not a folder) in an existing, writable folder; else a usage error. */
function sarifTarget(file: string): string {
  const path = resolve(file);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isDirectory()) throw usageError(`--sarif ${file}: is a folder, not a file.`, SARIF_HINT);
  const dir = dirname(path);
  if (!stat && !statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw usageError(`--sarif ${file}: the folder ${dir} does not exist.`, SARIF_HINT);
  }
  try {
    accessSync(stat ? path : dir, constants.W_OK);
  } catch {
    throw usageError(
      `--sarif ${file}: cannot write ${stat ? 'the file' : `in ${dir}`} (permission denied).`,
      SARIF_HINT,
    );
  }
  return path;
}

/** The JSON shape of the README ("`opsctl audit`"): optional fields only when known. */
function jsonFinding(f: Finding) {
  return {
    id: f.id,
    source: f.source,
    sources: f.sources,
    package: f.package,
    severity: f.severity,
    ...(f.dependency ? { dependency: f.dependency } : {}),
    ...(f.version ? { version: f.version } : {}),
    title: f.title,
    ...(f.fixedIn ? { fixedIn: f.fixedIn } : {}),
    ...(f.path ? { path: f.path } : {}),
    ...(f.file ? { file: f.file, line: f.line } : {}),
    ...(f.hint ? { hint: f.hint } : {}),
    ...(f.url ? { url: f.url } : {}),
    aliases: f.aliases,
    ignored: f.ignored,
    ...(f.ignoreReason ? { ignoreReason: f.ignoreReason } : {}),
  };
}

function sourceError(report: AuditReport, snykMissing: boolean, exitCode: ExitCodeValue): OpsError {
  const lines = report.sources
    .filter((s) => s.required)
    .flatMap((s) => s.unreachable.map((u) => `${s.source} (${u.package}): ${u.message}`));
  const snyk = report.sources.find((s) => s.source === 'snyk');
  if (snykMissing) lines.unshift(`Snyk is required (--snyk) but ${snyk?.reason ?? 'not available'}.`);
  const onlySnyk = lines.every((l) => l.startsWith('Snyk') || l.startsWith('snyk'));
  const specific = report.sources
    .filter((s) => s.required)
    .flatMap((s) => s.unreachable)
    .find((u) => u.hint)?.hint;
  const failed = exitCode === ExitCode.failed;
  return new OpsError(
    failed ? 'SOURCE_FAILED' : 'SOURCE_UNREACHABLE',
    `An advisory source could not be used: ${lines.join('; ')}`,
    {
      hint: failed
        ? (specific ??
          "Fix the package named above (run `npm audit` in it to see npm's own message); the findings above come from the rest.")
        : onlySnyk
          ? SNYK_HINT
          : (specific ??
            'Check the network, the registry setting (`npm config get registry`) and your npm login; the findings above come from the other sources.'),
      exitCode,
    },
  );
}

function printReport(report: AuditReport, level: Severity, snyk: SnykMode, incomplete: boolean): void {
  const snykSource = report.sources.find((s) => s.source === 'snyk');
  if (snyk === 'auto' && snykSource?.status === 'unavailable')
    err(`ℹ Snyk not used: ${snykSource.reason}. ${SNYK_HINT}`);
  if (snyk !== 'require') for (const u of snykSource?.unreachable ?? []) err(`⚠ Snyk (${u.package}): ${u.message}`);
  for (const note of report.notes) err(`ℹ ${note}`);
  for (const u of report.sources.find((s) => s.source === 'code')?.unparsed ?? []) {
    err(`⚠ ${u.file}${u.line ? `:${u.line}` : ''}: not parsed (${u.message}); the code rules skipped it.`);
  }
  for (const e of report.unused)
    err(`⚠ audit.ignore entry ${e.id} matched no finding (reason: ${e.reason}); remove it.`);
  for (const e of report.expired) {
    err(`✖ audit.ignore entry ${e.id} expired on ${e.expires} (reason: ${e.reason}): fix it, or renew the entry.`);
  }
  for (const severity of [...SEVERITIES].reverse()) {
    const group = report.findings.filter((f) => f.severity === severity);
    if (!group.length) continue;
    out(COLOUR[severity](`${severity.toUpperCase()} (${group.length})`));
    const deps = group.filter((f) => f.source !== 'code');
    if (deps.length) {
      out(
        table(
          deps.map((f) => [
            f.package,
            f.dependency ?? '',
            f.version ?? '',
            mark(f, f.title),
            f.fixedIn ?? chalk.dim('no fix'),
            f.sources.join('+'),
            f.id,
          ]),
          ['package', 'dependency', 'version', 'title', 'fixed in', 'source', 'id'],
        ),
      );
    }
    const code = group.filter((f) => f.source === 'code');
    if (code.length) {
      out(
        table(
          code.map((f) => [`${f.file}:${f.line}`, mark(f, f.title), f.id]),
          ['file:line', 'finding', 'rule'],
        ),
      );
      const hints = new Map(code.map((f) => [f.id, f.hint]));
      for (const [rule, hint] of hints) if (hint) out(chalk.dim(`  ${rule} → ${hint}`));
    }
    out('');
  }
  const counts = SEVERITIES.map((s) => `${report.findings.filter((f) => f.severity === s && !f.ignored).length} ${s}`);
  const ignored = report.findings.filter((f) => f.ignored).length;
  err(`${report.findings.length} finding(s): ${counts.reverse().join(', ')}${ignored ? `, ${ignored} ignored` : ''}.`);
  err(
    report.failing.length
      ? `✖ ${report.failing.length} unignored finding(s) at or above ${level}.`
      : incomplete
        ? `⚠ Nothing unignored at or above ${level} in what could be audited; a source failed (below).`
        : `✔ Nothing unignored at or above ${level}.`,
  );
}

function mark(f: Finding, text: string): string {
  return f.ignored ? `${text} ${chalk.dim(`(ignored: ${f.ignoreReason})`)}` : text;
}
