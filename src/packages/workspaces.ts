import { createRequire } from 'node:module';
import { dirname } from 'node:path';

// tinyglobby is required only when the root package.json declares workspaces: config loading is synchronous, and
// the other commands' start-up should not pay for a glob library they do not use
const load = createRequire(import.meta.url);

/**
 * The folders of npm `workspaces` patterns, relative to `root`, the way npm maps them: each pattern names folders
 * holding a package.json (`*`, `**`, `{a,b}`), `!pattern` leaves folders out, node_modules is never searched.
 * Ordered by pattern, then by name.
 */
export function expandWorkspaces(root: string, patterns: string[]): string[] {
  const { globSync } = load('tinyglobby') as typeof import('tinyglobby');
  const clean = (pattern: string) => pattern.replace(/\\/g, '/').replace(/\/+$/, '');
  const negated = patterns.filter((p) => p.startsWith('!')).map((p) => clean(p.slice(1)));
  const ignore = ['**/node_modules/**', ...negated.flatMap((p) => [`${p}/package.json`, `${p}/**`])];
  const found = new Set<string>();
  for (const pattern of patterns.filter((p) => !p.startsWith('!'))) {
    const files = globSync(`${clean(pattern)}/package.json`, { cwd: root, ignore, expandDirectories: false });
    for (const file of files.sort((a, b) => a.localeCompare(b, 'en'))) found.add(dirname(file));
  }
  return [...found];
}
