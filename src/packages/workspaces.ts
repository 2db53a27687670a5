// Plain patterns (`packages/*`) are listed by hand: loading tinyglobby costs a workspace app ~20 ms on every command.
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** A folder, or a folder's direct subfolders (`packages/*`): what most workspaces declare. */
const PLAIN = /^[\w@.-]+(?:\/[\w@.-]+)*(?:\/\*)?$/;

/**
 * The folders of npm `workspaces` patterns, relative to `root`, the way npm maps them: each pattern names folders
 * holding a package.json (`*`, `**`, `{a,b}`), `!pattern` leaves folders out, node_modules is never searched.
 * Ordered by pattern, then by name.
 */
export function expandWorkspaces(root: string, patterns: string[]): string[] {
  const clean = patterns.map((p) => p.replace(/\\/g, '/').replace(/\/+$/, ''));
  const expand = clean.every((p) => PLAIN.test(p)) ? listPlain : globbed;
  const found = new Set<string>();
  for (const pattern of clean.filter((p) => !p.startsWith('!'))) {
    for (const dir of expand(root, pattern, clean).sort((a, b) => a.localeCompare(b, 'en'))) found.add(dir);
  }
  return [...found];
}

function listPlain(root: string, pattern: string): string[] {
  if (!pattern.endsWith('/*')) return existsSync(join(root, pattern, 'package.json')) ? [pattern] : [];
  const base = pattern.slice(0, -2);
  const entries = existsSync(join(root, base)) ? readdirSync(join(root, base)) : [];
  return entries
    .filter((name) => !name.startsWith('.') && name !== 'node_modules')
    .filter((name) => existsSync(join(root, base, name, 'package.json')))
    .map((name) => `${base}/${name}`);
}

function globbed(root: string, pattern: string, all: string[]): string[] {
  // required at run time, outside the bundle: config loading is synchronous, and bundling it would make every
  // command load the glob library
  const { globSync } = createRequire(import.meta.url)('tinyglobby') as typeof import('tinyglobby');
  const negated = all.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const ignore = ['**/node_modules/**', ...negated.flatMap((p) => [`${p}/package.json`, `${p}/**`])];
  return globSync(`${pattern}/package.json`, { cwd: root, ignore, expandDirectories: false }).map((f) => dirname(f));
}
