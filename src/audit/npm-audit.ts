import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import semver from 'semver';
import { readNpmConfig } from '../deps/npm-config.js';
import type { AppPackage } from '../packages/types.js';
import type { Runner, RunResult } from '../process/runner.js';
import { mapLimit } from './limit.js';
import { findNpmCli, runNpmBatch } from './npm-batch.js';
import { type Finding, type SourceResult, toNpmSeverity } from './types.js';

export const NPM_AUDIT_TIMEOUT_MS = 120_000; // npm retries a slow registry several times before it gives up

/** An advisory as `npm audit --json` lists it in a vulnerability's `via`. */
interface NpmVia {
  source?: number;
  name: string;
  dependency?: string;
  title?: string;
  url?: string;
  severity: string;
  range?: string;
}

interface NpmVulnerability {
  name: string;
  severity: string;
  via: Array<NpmVia | string>;
  nodes?: string[];
  fixAvailable?: boolean | { name: string; version: string };
}

interface NpmAuditDoc {
  vulnerabilities?: Record<string, NpmVulnerability>;
  metadata?: { dependencies?: { total?: number } };
  message?: string;
  statusCode?: number;
  error?: { code?: string; summary?: string; detail?: string };
}

export interface NpmAuditOptions {
  runner: Runner;
  concurrency: number;
  omitDev: boolean;
  timeoutMs?: number;
  /**
   * All packages in one node process (npm-batch.ts), `concurrency` at once, when the npm on PATH allows it; else
   * (and by default) one `npm audit` process per package.
   */
  batch?: boolean;
}

interface Job {
  pkg: AppPackage;
  args: string[];
}

/**
 * `npm audit --json` in every package, at most `concurrency` at once, through the user's own npm configuration
 * (npm reads .npmrc and npm_config_* itself). A package without a lockfile is audited with `--package-lock=false`:
 * npm then builds the tree from package.json (and node_modules) as `npm install` would, without writing anything.
 */
export async function npmAudit(packages: AppPackage[], options: NpmAuditOptions): Promise<SourceResult> {
  const result: SourceResult = { findings: [], unreachable: [], notes: [] };
  const timeoutMs = options.timeoutMs ?? NPM_AUDIT_TIMEOUT_MS;
  const jobs = packages.map((pkg): Job => {
    readNpmConfig(pkg.dir); // learns the registry tokens of the package's npm configuration: never printed
    // npm's silly log says what the audit endpoint answered (wrongAnswer); it goes to stderr, the report is unchanged
    const args = ['audit', '--json', '--loglevel=silly'];
    if (!hasLockfile(pkg.dir)) {
      args.push('--package-lock=false');
      result.notes.push(`${pkg.name}: no lockfile; npm audited the tree npm install would build from package.json.`);
    }
    if (options.omitDev) args.push('--omit=dev');
    return { pkg, args };
  });
  const spawnEach = (list: Job[], limit: number) =>
    mapLimit(list, limit, async (job) => {
      const res = await options.runner.run('npm', job.args, { cwd: job.pkg.dir, timeoutMs });
      report(result, job.pkg, res, timeoutMs);
    });
  const cli = options.batch ? findNpmCli() : undefined;
  if (!cli) {
    await spawnEach(jobs, options.concurrency);
    return inPackageOrder(result, packages);
  }
  // one process: npm loads once, and its registry requests for the packages overlap
  const done = await runNpmBatch(
    options.runner,
    cli,
    jobs.map((j) => ({ dir: j.pkg.dir, args: j.args })),
    { timeoutMs, atOnce: options.concurrency },
  );
  for (const [i, res] of done) report(result, jobs[i]!.pkg, { ...res, notFound: false }, timeoutMs);
  // what it did not finish (this npm cannot run so, no node on PATH, a crash): npm as a process per package
  await spawnEach(
    jobs.filter((_, i) => !done.has(i)),
    options.concurrency,
  );
  return inPackageOrder(result, packages);
}

/** Packages finish in any order: what could not be audited is listed in the packages' order, the same every run. */
function inPackageOrder(result: SourceResult, packages: AppPackage[]): SourceResult {
  const rank = new Map(packages.map((p, i) => [p.name, i]));
  result.unreachable.sort((a, b) => (rank.get(a.package) ?? 0) - (rank.get(b.package) ?? 0));
  return result;
}

/** One package's `npm audit --json` outcome into `result`: its findings, or why there are none. */
function report(
  result: SourceResult,
  pkg: AppPackage,
  res: Pick<RunResult, 'stdout' | 'stderr' | 'timedOut' | 'notFound'>,
  timeoutMs: number,
): void {
  if (res.timedOut) {
    const within = `${Math.round(timeoutMs / 1000)} s`;
    result.unreachable.push({
      package: pkg.name,
      message: `npm audit did not finish within ${within}: the registry did not answer`,
    });
    return;
  }
  if (res.notFound) {
    result.unreachable.push({
      package: pkg.name,
      message: 'npm was not found on PATH',
      failed: true,
      hint: 'Install Node.js with npm (npm 7 or later), or put its folder on PATH; the findings above come from the rest.',
    });
    return;
  }
  const doc = parseJson(res.stdout);
  const wrong = wrongAnswer(doc, res.stderr);
  if (wrong) {
    result.unreachable.push({ package: pkg.name, ...wrong });
    return;
  }
  if (!doc?.vulnerabilities) {
    result.unreachable.push({
      package: pkg.name,
      message: brokenLockfile(pkg.dir, doc) ?? npmFailure(doc, res.stderr),
      ...(isNetworkFailure(doc) ? {} : { failed: true }),
      ...(NO_ENDPOINT.includes(doc?.statusCode ?? 0) ? { hint: NO_ENDPOINT_HINT } : {}),
    });
    return;
  }
  result.findings.push(...parseNpmAudit(doc, pkg.name, installedVersions(pkg.dir)));
}

function hasLockfile(dir: string): boolean {
  return existsSync(join(dir, 'package-lock.json')) || existsSync(join(dir, 'npm-shrinkwrap.json'));
}

function parseJson(text: string): NpmAuditDoc | undefined {
  try {
    return text.trim() ? (JSON.parse(text) as NpmAuditDoc) : undefined;
  } catch {
    return undefined;
  }
}

/** npm says ENOLOCK ("requires an existing lockfile") also when the lockfile is there but is not valid JSON. */
function brokenLockfile(dir: string, doc: NpmAuditDoc | undefined): string | undefined {
  if (doc?.error?.code !== 'ENOLOCK') return undefined;
  for (const file of ['npm-shrinkwrap.json', 'package-lock.json']) {
    let text: string;
    try {
      text = readFileSync(join(dir, file), 'utf8');
    } catch {
      continue;
    }
    const rebuild = `rebuild it with \`npm i --package-lock-only\` (npm: ${doc.error.summary})`;
    let lock: unknown;
    try {
      lock = JSON.parse(text);
    } catch (error) {
      return `${file} cannot be read (${(error as Error).message}); ${rebuild}`;
    }
    if (typeof lock !== 'object' || lock === null || Array.isArray(lock)) {
      const holds = Array.isArray(lock) ? 'a list' : JSON.stringify(lock).slice(0, 40);
      return `${file} is not a lockfile (it holds ${holds}); ${rebuild}`;
    }
  }
  return undefined;
}

/** What npm said when it produced no report: the audit endpoint's failure, or npm's own error summary. */
function npmFailure(doc: NpmAuditDoc | undefined, stderr: string): string {
  if (doc?.message) return doc.statusCode ? `${doc.message} (HTTP ${doc.statusCode})` : doc.message;
  if (doc?.error?.summary) return doc.error.summary;
  const last = stripVTControlCharacters(stderr)
    .split('\n')
    .filter((l) => /npm (error|ERR!)/.test(l))
    .slice(0, 2)
    .join(' ');
  return last || 'npm audit printed no report';
}

// a registry (a mirror, a proxy, a private registry) that has no bulk advisory endpoint answers one of these
const NO_ENDPOINT = [404, 405, 501];
const NO_ENDPOINT_HINT =
  "The registry npm uses (`npm config get registry`) does not offer npm's audit endpoint " +
  '(POST /-/npm/v1/security/advisories/bulk), as some mirrors and proxies do not: point npm at one that does ' +
  '(`registry=` in .npmrc, or npm_config_registry); the findings above come from the other sources.';

const NETWORK_CODES =
  /^(E\d{3}|ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|EHOSTUNREACH|ERR_SOCKET_TIMEOUT|ENOAUDIT|ENOTCACHED)$/;

const WRONG_ANSWER_HINT =
  "The registry npm uses (`npm config get registry`) answered npm's audit endpoint " +
  '(POST /-/npm/v1/security/advisories/bulk) with something that is not advisories, as a misconfigured proxy or ' +
  'mirror can: fix it, or point npm at a registry that answers it (`registry=` in .npmrc, or npm_config_registry); ' +
  'the findings above come from the other sources.';
const OFFLINE_HINT =
  "npm's configuration sets offline=true (a .npmrc, ~/.npmrc or npm_config_offline), so npm audit asks no registry " +
  'and reports nothing: unset it, or run with npm_config_offline=false; the findings above come from the other sources.';

/** What npm's silly log (`--loglevel=silly`, on stderr; `sill` before npm 9) says of its request to the audit endpoint. */
function auditTrace(stderr: string): { bulk?: string; status?: number; report?: string } {
  const trace: { bulk?: string; status?: number; report?: string } = {};
  // `color=always` in an npmrc colours npm's log lines even into a pipe
  for (const line of stripVTControlCharacters(stderr).split('\n')) {
    // logged before the request; `{}` (all omitted) asks nothing; not logged at all when npm is offline
    const bulk = /^npm sill(?:y)? audit bulk request (.*)$/.exec(line);
    if (bulk && trace.bulk === undefined) trace.bulk = bulk[1]!.trim();
    const status = /^npm http fetch POST (\d{3}) \S*\/-\/npm\/v1\/security\/advisories\/bulk\b/.exec(line);
    if (status) trace.status = Number(status[1]);
    const report = /^npm sill(?:y)? audit report (.*)$/.exec(line);
    if (report && trace.report === undefined) trace.report = report[1]!.trim();
  }
  return trace;
}

/**
 * An audit endpoint that answered 200 with something other than advisories (`null`, a list, advisories npm cannot
 * read or that carry no id), or an npm that asked nothing (offline): npm prints an empty report or fails, as if the
 * package were clean or broken; neither is true (README, "`opsctl audit`", npm advisories).
 */
function wrongAnswer(doc: NpmAuditDoc | undefined, stderr: string): { message: string; hint: string } | undefined {
  const trace = auditTrace(stderr);
  if (trace.status === 200 && trace.report !== undefined && !trace.report.startsWith('{')) {
    const shown = trace.report.length > 40 ? `${trace.report.slice(0, 40)}…` : trace.report;
    return {
      message: `the registry's audit endpoint answered 200 with ${shown}, not advisories`,
      hint: WRONG_ANSWER_HINT,
    };
  }
  if (trace.status === 200 && trace.report && !doc?.vulnerabilities && doc?.error && !doc.message) {
    const npm = doc.error.summary ? ` (npm: ${doc.error.summary})` : '';
    return {
      message: `the registry's audit endpoint answered advisories npm could not read${npm}`,
      hint: WRONG_ANSWER_HINT,
    };
  }
  const vias = Object.values(doc?.vulnerabilities ?? {}).flatMap((v) => v.via ?? []);
  if (vias.some((via) => typeof via === 'object' && via.source === undefined && !via.url)) {
    return { message: "the registry's audit endpoint answered advisories without an id", hint: WRONG_ANSWER_HINT };
  }
  const dependencies = doc?.metadata?.dependencies?.total ?? 0;
  if (trace.report === 'null' && trace.bulk === undefined && doc?.vulnerabilities && dependencies > 0) {
    return {
      message: 'npm asked no registry (offline=true in its configuration), so it reported nothing',
      hint: OFFLINE_HINT,
    };
  }
  return undefined;
}

/**
 * The audit endpoint failed (npm prints its `message`, with `statusCode` for an HTTP answer) or npm could not reach
 * the registry; anything else (EJSONPARSE, ENOLOCK...) is npm failing on the package itself.
 */
function isNetworkFailure(doc: NpmAuditDoc | undefined): boolean {
  if (doc?.message) return true;
  return NETWORK_CODES.test(doc?.error?.code ?? '');
}

/** Installed versions by lockfile location (`node_modules/a/node_modules/b` → version), from the lockfile. */
function installedVersions(dir: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const file of ['npm-shrinkwrap.json', 'package-lock.json', 'node_modules/.package-lock.json']) {
    try {
      const lock = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
        packages?: Record<string, { version?: string }>;
        dependencies?: V1Dependencies;
      };
      for (const [loc, entry] of Object.entries(lock.packages ?? {}))
        if (entry.version) versions.set(loc, entry.version);
      if (!lock.packages) addV1Versions(versions, lock.dependencies, ''); // lockfile v1 (npm 6): nested
      return versions;
    } catch {}
  }
  return versions;
}

type V1Dependencies = Record<string, { version?: string; dependencies?: V1Dependencies }>;

/** A v1 lockfile's nested `dependencies` by the location npm gives them (`node_modules/a/node_modules/b`). */
function addV1Versions(versions: Map<string, string>, deps: V1Dependencies | undefined, parent: string): void {
  for (const [name, entry] of Object.entries(deps ?? {})) {
    const loc = `${parent}node_modules/${name}`;
    if (typeof entry?.version === 'string') versions.set(loc, entry.version);
    addV1Versions(versions, entry?.dependencies, `${loc}/`);
  }
}

/** One finding per advisory per vulnerable dependency of one package's `npm audit --json` report. */
export function parseNpmAudit(doc: NpmAuditDoc, pkg: string, versions = new Map<string, string>()): Finding[] {
  const findings: Finding[] = [];
  for (const vuln of Object.values(doc.vulnerabilities ?? {})) {
    const node = vuln.nodes?.[0];
    for (const via of vuln.via) {
      if (typeof via === 'string') continue; // "vulnerable because it depends on X": X carries the advisory
      const ghsa = /GHSA(-[23456789cfghjmpqrvwx]{4}){3}/.exec(via.url ?? '')?.[0];
      const id = ghsa ?? via.url ?? `npm:${via.source}`;
      findings.push({
        id,
        source: 'npm',
        sources: ['npm'],
        aliases: [id, ...(via.source ? [String(via.source)] : [])],
        package: pkg,
        severity: toNpmSeverity(via.severity),
        dependency: via.dependency ?? via.name,
        ...(node && versions.get(node) ? { version: versions.get(node) } : {}),
        title: via.title ?? id,
        ...fixedIn(via, vuln),
        ...(node ? { path: pathOf(node) } : {}),
        ...(via.url ? { url: via.url } : {}),
        ignored: false,
      });
    }
  }
  return findings;
}

/** `node_modules/express/node_modules/qs` → ["express", "qs"] (scoped names kept whole). */
function pathOf(location: string): string[] {
  return location.split(/(?:^|\/)node_modules\//).filter(Boolean);
}

/**
 * The first version out of the advisory's range when the range ends with `<X` (the common shape, `<2.0.0`); else
 * npm's suggested fix when it is for the dependency itself.
 */
function fixedIn(via: NpmVia, vuln: NpmVulnerability): { fixedIn?: string } {
  try {
    const sets = new semver.Range(via.range ?? '').set;
    const upper = sets.at(-1)?.find((c) => c.operator === '<');
    if (upper) return { fixedIn: upper.semver.version };
  } catch {}
  const fix = vuln.fixAvailable;
  if (typeof fix === 'object' && fix.name === (via.dependency ?? via.name)) return { fixedIn: fix.version };
  return {};
}
