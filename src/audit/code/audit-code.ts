import { readFile } from 'node:fs/promises';
import { join, posix, sep } from 'node:path';
import type { AppPackage } from '../../packages/types.js';
import type { Runner } from '../../process/runner.js';
import { mapLimit } from '../limit.js';
import type { Finding } from '../types.js';
import { CANDIDATE, checkProgram } from './ast-rules.js';
import { checkEnvFile, isEnvFile, isKeyFile } from './env-files.js';
import { shippedFiles } from './files.js';
import { type CodeRule, RULES } from './rules.js';
import { checkScripts } from './scripts.js';
import { type SourceText, scanFile, scanTexts } from './secrets.js';

const SOURCE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
const MAX_SOURCE_BYTES = 1_000_000; // bigger files are generated or bundled, not the app's own code
const READ_CONCURRENCY = 32;
// tests hold made-up secrets by design: the secret-by-name rule skips them (secretlint's patterns and crypto do not)
const TEST_FILE = /(^|\/)(test|tests|__tests__|spec)\/|\.(test|spec)\.[cm]?[jt]sx?$/;

type Parse = typeof import('oxc-parser').parseSync;

/**
 * The code audit of the app's own sources (README, "`opsctl audit`"): crypto, hard-coded secrets, committed .env
 * and key files, npm scripts. oxc-parser (native, the fastest JS/TS parser on npm, ESTree output) is loaded here
 * only. Findings say where, never the secret.
 */
export async function auditCode(
  root: string,
  packages: AppPackage[],
  runner: Runner,
  appPackages: AppPackage[] = packages,
): Promise<{ findings: Finding[]; filesScanned: number; unparsed: Unparsed[] }> {
  // every package's build output is skipped and every file goes to its own package; under `-p`, only the selected
  // packages' files are read
  const shipped = await shippedFiles(root, appPackages, runner);
  const owner = packageOf(appPackages, root);
  const selected = new Set(packages.map((p) => p.name));
  if (packages.length < appPackages.length) shipped.files = shipped.files.filter((f) => selected.has(owner(f)));
  const sources = shipped.files.filter((f) => SOURCE.test(f) && !f.endsWith('.d.ts'));
  // the parser is loaded only when there is something to parse
  const { parseSync } = sources.length ? await import('oxc-parser') : { parseSync: undefined };
  const findings: Finding[] = [];
  const texts: SourceText[] = [];
  const unparsed: Unparsed[] = [];
  const add = (rule: CodeRule, file: string, line: number, detail?: string) =>
    findings.push({
      id: rule.id,
      source: 'code',
      sources: ['code'],
      aliases: [rule.id, `${rule.id}:${file}`],
      package: owner(file),
      severity: rule.severity,
      title: detail ? `${rule.title} (${detail})` : rule.title,
      file,
      line,
      hint: rule.hint,
      ignored: false,
    });

  let scanned = 0;
  await mapLimit(shipped.files, READ_CONCURRENCY, async (file) => {
    const base = posix.basename(file);
    const shipsWithSource = shipped.tracked.has(file);
    if (parseSync && SOURCE.test(file) && !file.endsWith('.d.ts')) {
      const text = await readFile(join(root, file), 'utf8').catch(() => undefined);
      if (text === undefined || text.length > MAX_SOURCE_BYTES) return;
      if (text.includes('\0')) {
        unparsed.push({ file, message: 'a binary file, not source text' });
        return;
      }
      scanned++;
      texts.push({ file, text });
      if (!CANDIDATE.test(text)) return;
      const checked = checkSource(parseSync, file, text);
      if (checked.error) unparsed.push({ file, ...checked.error });
      for (const hit of checked.hits) add(hit.rule, file, hit.line);
    } else if (base === 'package.json') {
      const text = await readFile(join(root, file), 'utf8').catch(() => '');
      scanned++;
      for (const hit of checkScripts(text)) add(hit.rule, file, hit.line);
    } else if (isEnvFile(file) && shipsWithSource) {
      const text = await readFile(join(root, file), 'utf8').catch(() => '');
      scanned++;
      for (const hit of checkEnvFile(text)) add(hit.rule, file, hit.line);
    } else if (isKeyFile(file) && shipsWithSource) {
      const text = await readFile(join(root, file), 'utf8').catch(() => '');
      scanned++;
      for (const hit of await scanFile(file, text)) add(hit.rule, file, hit.line);
    }
  });
  for (const hit of await scanTexts(texts)) {
    add(
      RULES.hardcodedKey,
      hit.file,
      hit.line,
      `secretlint: ${hit.ruleId.replace('@secretlint/secretlint-rule-', '')}`,
    );
  }
  const seen = new Set<string>();
  const unique = findings.filter((f) => {
    const key = `${f.id} ${f.file}:${f.line}`;
    return !seen.has(key) && Boolean(seen.add(key));
  });
  unique.sort((a, b) => (a.file! < b.file! ? -1 : a.file! > b.file! ? 1 : a.line! - b.line!));
  unparsed.sort((a, b) => (a.file < b.file ? -1 : 1));
  return { findings: unique, filesScanned: scanned, unparsed };
}

/** A source file the parser could not read (a syntax error) or that is binary: reported, and the audit goes on. */
export interface Unparsed {
  file: string;
  line?: number;
  message: string;
}

/**
 * The code rules over one file. A syntax error is reported (its first one); the rules still run over what the
 * parser recovered, which is nothing when the error is fatal.
 */
function checkSource(parseSync: Parse, file: string, text: string) {
  const ext = posix.extname(file);
  const lang = ext === '.tsx' ? 'tsx' : /ts$/.test(ext) ? 'ts' : 'jsx';
  const lineOf = lineIndex(text);
  let parsed: ReturnType<Parse>;
  try {
    parsed = parseSync(file, text, { lang });
  } catch (error) {
    return { hits: [], error: { message: `not parsed: ${(error as Error).message}` } };
  }
  const first = parsed.errors.find((e) => String(e.severity) === 'Error');
  const offset = first?.labels[0]?.start;
  const error = first && { ...(offset === undefined ? {} : { line: lineOf(offset) }), message: first.message };
  const hits = checkProgram(parsed.program as never, { testFile: TEST_FILE.test(file) });
  return { hits: hits.map((h) => ({ rule: h.rule, line: lineOf(h.offset) })), error };
}

/** Offset → 1-based line, by binary search over the line starts. */
function lineIndex(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

/** The package a file belongs to: the deepest package folder holding it; the app root's files go to the root. */
function packageOf(packages: AppPackage[], root: string): (file: string) => string {
  const dirs = packages
    .map((p) => ({ name: p.name, path: p.path === '.' ? '' : `${p.path.split(sep).join('/')}/` }))
    .sort((a, b) => b.path.length - a.path.length);
  const rootName = posix.basename(root.split(sep).join('/'));
  return (file) => dirs.find((d) => file.startsWith(d.path))?.name ?? rootName;
}
