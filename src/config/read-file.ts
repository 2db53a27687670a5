import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
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
  const doc = parseDocument(text, { prettyErrors: true, lineCounter: lines });
  const lineOf = (path: PropertyKey[]) => {
    const node = doc.getIn(path as unknown[], true) as { range?: [number, number] } | undefined;
    const offset = node?.range?.[0];
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
  return { file, data: doc.toJS() ?? {}, lineOf };
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
