import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type * as z from 'zod/mini';
import { configError } from '../errors.js';

/** A parsed config document that can say where a key path sits in its file. */
export interface ConfigDocument {
  file: string;
  data: unknown;
  lineOf(path: PropertyKey[]): number | undefined;
}

export function readConfigDocument(file: string): ConfigDocument {
  const name = basename(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw configError(
      `${name}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`,
      `Check the path given to --config.`,
      err,
    );
  }
  const lines = new LineCounter();
  // JSON is YAML too: the YAML document of a JSON config gives its key positions
  // YAML 1.1 merge keys (`<<: *base`) are what people write to share settings between packages
  const doc = parseDocument(text, { prettyErrors: true, lineCounter: lines, merge: true });
  const lineOf = (path: PropertyKey[]) => {
    const offset = startOf(doc.getIn(path.slice(0, -1) as unknown[], true) ?? doc.contents, path.at(-1));
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  if (file.endsWith('.json')) return { file, data: parseJson(name, text, lines), lineOf };
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    throw configError(
      `${name}${line ? `:${line}` : ''}: invalid YAML: ${first.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      'Fix the YAML syntax (indentation, colons, quotes) at that line.',
    );
  }
  try {
    return { file, data: doc.toJS() ?? {}, lineOf };
  } catch (err) {
    // e.g. "Excessive alias count": a document that expands to something huge (an alias bomb)
    throw configError(`${name}: invalid YAML: ${(err as Error).message}`, 'Use fewer aliases (*name).', err);
  }
}

/** Where the entry `key` of a map (its key, not its value) or item `key` of a list starts in the file. */
function startOf(parent: unknown, key: PropertyKey | undefined): number | undefined {
  if (key === undefined) return undefined;
  if (isMap(parent)) {
    const pair = parent.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
    return (pair?.key as { range?: [number, number] } | undefined)?.range?.[0];
  }
  if (isSeq(parent)) return (parent.items[Number(key)] as { range?: [number, number] } | undefined)?.range?.[0];
  return undefined;
}

function parseJson(name: string, text: string, lines: LineCounter): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const pos = /position (\d+)/.exec((err as Error).message);
    const line = pos ? lines.linePos(Number(pos[1])).line : undefined;
    throw configError(
      `${name}${line ? `:${line}` : ''}: invalid JSON: ${(err as Error).message}`,
      'Fix the JSON syntax (commas, quotes, brackets).',
    );
  }
}

/** `opsctl.config.yaml: packages.backend.port: expected a number, got "abc" (line 3)` */
export function describeIssue(doc: ConfigDocument, issue: z.core.$ZodIssue): string {
  const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
  const path = keys.length ? [...issue.path, keys[0]!] : issue.path;
  const keyPath = path.map(String).join('.') || '(top level)';
  const line = doc.lineOf(path);
  return `${basename(doc.file)}: ${keyPath}: ${issueText(issue)}${line ? ` (line ${line})` : ''}`;
}

function issueText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${article(issue.expected)}, got ${describeInput(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeInput(issue.input)}`;
    case 'too_small':
      return `expected at least ${issue.minimum}, got ${describeInput(issue.input)}`;
    case 'too_big':
      return `expected at most ${issue.maximum}, got ${describeInput(issue.input)}`;
    case 'invalid_union':
      return `unexpected value ${describeInput(issue.input)}`;
    default:
      return `${issue.message}${'input' in issue && issue.input !== undefined ? `, got ${describeInput(issue.input)}` : ''}`;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describeInput(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'an object';
  return JSON.stringify(input);
}
