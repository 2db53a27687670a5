import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import semver from 'semver';
import { addSecret } from '../output/redact.js';
import type { AppPackage } from '../packages/types.js';
import type { Runner } from '../process/runner.js';
import { mapLimit } from './limit.js';
import { type Finding, type SourceResult, toNpmSeverity } from './types.js';

export const SNYK_TIMEOUT_MS = 300_000; // snyk resolves the whole tree and asks its service: minutes on big apps

/** Where Snyk is and whether it holds credentials; `reason` says why it cannot be used. */
export interface SnykAvailability {
  bin?: string;
  authenticated: boolean;
  reason?: string;
}

/**
 * A `snyk` executable in the app's `node_modules/.bin` or on PATH, and a token: `SNYK_TOKEN`, or what `snyk auth`
 * stored in its configstore file (`api`, or the OAuth token storage).
 */
export function findSnyk(root: string, env: Record<string, string | undefined> = process.env): SnykAvailability {
  const dirs = [join(root, 'node_modules', '.bin'), ...(env.PATH ?? '').split(delimiter).filter(Boolean)];
  const bin = dirs.map((d) => join(d, 'snyk')).find(isExecutable);
  if (!bin) return { authenticated: false, reason: 'no snyk executable on PATH or in node_modules/.bin' };
  if (env.SNYK_TOKEN) {
    addSecret(env.SNYK_TOKEN);
    return { bin, authenticated: true };
  }
  const stored = storedToken(env);
  if (stored) {
    addSecret(stored);
    return { bin, authenticated: true };
  }
  return { bin, authenticated: false, reason: 'snyk is not authenticated (no SNYK_TOKEN, no `snyk auth`)' };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function storedToken(env: Record<string, string | undefined>): string | undefined {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  try {
    const stored = JSON.parse(readFileSync(join(base, 'configstore', 'snyk.json'), 'utf8')) as Record<string, string>;
    return stored.api || stored.INTERNAL_OAUTH_TOKEN_STORAGE || undefined;
  } catch {
    return undefined;
  }
}

interface SnykVuln {
  id: string;
  title: string;
  severity: string;
  packageName: string;
  version: string;
  from: string[];
  fixedIn?: string[];
  identifiers?: Record<string, Array<string | number>>;
}

interface SnykDoc {
  ok?: boolean;
  error?: string;
  vulnerabilities?: SnykVuln[];
}

export interface SnykOptions {
  runner: Runner;
  bin: string;
  concurrency: number;
  omitDev: boolean;
  timeoutMs?: number;
}

/**
 * `snyk test --json` in every package. Snyk's exit codes (its `snyk test` help, "Exit codes"): 0 nothing found,
 * 1 vulnerabilities found, 2 failure (network, auth, service), 3 no supported project in the folder.
 */
export async function snykTest(packages: AppPackage[], options: SnykOptions): Promise<SourceResult> {
  const result: SourceResult = { findings: [], unreachable: [], notes: [] };
  await mapLimit(packages, options.concurrency, async (pkg) => {
    // Snyk leaves dev dependencies out unless --dev; npm audit includes them unless --omit dev
    const args = ['test', '--json', ...(options.omitDev ? [] : ['--dev'])];
    const timeoutMs = options.timeoutMs ?? SNYK_TIMEOUT_MS;
    const res = await options.runner.run(options.bin, args, { cwd: pkg.dir, timeoutMs });
    const doc = parseDocs(res.stdout);
    if (res.timedOut) {
      result.unreachable.push({
        package: pkg.name,
        message: `snyk test did not finish within ${Math.round(timeoutMs / 1000)} s`,
      });
    } else if (res.exitCode === 3) {
      result.notes.push(`${pkg.name}: Snyk found no supported project to test (snyk exit 3).`);
    } else if ((res.exitCode === 0 || res.exitCode === 1) && doc.length && doc.every((d) => !d.error)) {
      for (const d of doc) result.findings.push(...parseSnyk(d, pkg.name));
    } else if ((res.exitCode === 0 || res.exitCode === 1) && !doc.length) {
      // 0 and 1 promise a report: text instead is a Snyk that is not the CLI we know (or a wrapper around it)
      const first = (res.stdout.trim() || res.stderr.trim()).split('\n')[0] || 'nothing';
      result.unreachable.push({
        package: pkg.name,
        message: `snyk test printed no JSON report (exit ${res.exitCode}): ${first.slice(0, 200)}`,
      });
    } else {
      const message = doc.find((d) => d.error)?.error ?? (res.stderr.trim().split('\n').at(-1) || 'no output');
      result.unreachable.push({ package: pkg.name, message: `snyk test failed (exit ${res.exitCode}): ${message}` });
    }
  });
  return result;
}

function parseDocs(stdout: string): SnykDoc[] {
  try {
    const parsed = JSON.parse(stdout) as SnykDoc | SnykDoc[];
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}

/** One finding per Snyk issue per vulnerable dependency (Snyk lists an issue once per path). */
export function parseSnyk(doc: SnykDoc, pkg: string): Finding[] {
  const byKey = new Map<string, Finding>();
  for (const v of doc.vulnerabilities ?? []) {
    const key = `${v.id}\u0000${v.packageName}@${v.version}`;
    if (byKey.has(key)) continue;
    const ids = v.identifiers ?? {};
    const ghsa = (ids.GHSA ?? []).map(String);
    const cve = (ids.CVE ?? []).map(String);
    byKey.set(key, {
      id: ghsa[0] ?? cve[0] ?? v.id,
      source: 'snyk',
      sources: ['snyk'],
      aliases: [...new Set([...ghsa, ...cve, v.id, ...(ids.ALTERNATIVE ?? []).map(String)])],
      package: pkg,
      severity: toNpmSeverity(v.severity),
      dependency: v.packageName,
      version: v.version,
      title: v.title,
      ...fixedIn(v),
      path: v.from.slice(1).map(nameOf),
      url: `https://security.snyk.io/vuln/${v.id}`,
      ignored: false,
    });
  }
  return [...byKey.values()];
}

/** The lowest fixed version above the installed one (Snyk lists one per release line). */
function fixedIn(v: SnykVuln): { fixedIn?: string } {
  const above = (v.fixedIn ?? [])
    .filter((f) => semver.valid(f) && (!semver.valid(v.version) || semver.gt(f, v.version)))
    .sort(semver.compare);
  return above[0] ? { fixedIn: above[0] } : {};
}

function nameOf(spec: string): string {
  const at = spec.lastIndexOf('@');
  return at > 0 ? spec.slice(0, at) : spec;
}
