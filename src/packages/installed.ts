import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { expandWorkspaces } from './workspaces.js';

/** A dependency found in a node_modules folder. */
export interface Installed {
  /** "" when its package.json has no version. */
  version: string;
  /** Absolute folder (`<dir>/node_modules/<name>`), as `npm outdated` reports its location. */
  path: string;
}

/**
 * The folders whose node_modules hold a package's dependencies, nearest first: its own, then, for a member of an
 * npm workspace, each folder above it up to the workspace root, where npm hoists what the members share. Node
 * resolves the same way; a package outside any workspace has only its own node_modules, as npm sees it.
 */
export function dependencyDirs(dir: string): string[] {
  const top = workspaceRootOf(dir);
  if (!top) return [dir];
  const dirs = [dir];
  for (let current = dir; current !== top; ) {
    current = dirname(current);
    dirs.push(current);
  }
  return dirs;
}

/** The nearest folder above `dir` whose package.json `workspaces` include it, as npm finds a workspace root. */
export function workspaceRootOf(dir: string): string | undefined {
  for (let current = dirname(dir); current !== dirname(current); current = dirname(current)) {
    const patterns = workspacePatterns(current);
    if (patterns?.length && expandWorkspaces(current, patterns).includes(relative(current, dir).split('\\').join('/')))
      return current;
  }
  return undefined;
}

/** The dependency `name` as Node would load it from the first of `dirs` (see dependencyDirs) that has it. */
export async function readInstalled(dirs: string[], name: string): Promise<Installed | undefined> {
  for (const dir of dirs) {
    const version = await readInstalledVersion(dir, `node_modules/${name}`);
    if (version !== undefined) return { version, path: join(dir, 'node_modules', name) };
  }
  return undefined;
}

/** The version installed at `<dir>/<installPath>` ("" when its package.json has none); undefined when absent. */
export async function readInstalledVersion(dir: string, installPath: string): Promise<string | undefined> {
  try {
    const pkg = JSON.parse(await readFile(join(dir, installPath, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '';
  } catch {
    return undefined;
  }
}

function workspacePatterns(dir: string): string[] | undefined {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      workspaces?: string[] | { packages?: string[] };
    };
    return Array.isArray(pkg.workspaces) ? pkg.workspaces : pkg.workspaces?.packages;
  } catch {
    return undefined;
  }
}
