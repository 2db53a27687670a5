import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { usageError } from '../../errors.js';
import { findBin } from './state.js';

/** The first of `names` that exists in `dir`, as an absolute path. */
export function firstExisting(dir: string, names: string[]): string | undefined {
  return names.map((n) => join(dir, n)).find((p) => existsSync(p));
}

export function isDirectory(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Names of the regular files in `dir` (none when it does not exist), sorted. */
export function listFiles(dir: string): string[] {
  if (!isDirectory(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => e.name)
    .sort();
}

export function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The tool's executable in `node_modules/.bin`, from the package folder upwards (workspaces hoist bins). */
export function requireBin(dir: string, bin: string, tool: string): string {
  const found = findBin(dir, resolve(dir, '/'), bin);
  if (found) return found;
  throw usageError(
    `${tool} is not installed in ${dir}: no node_modules/.bin/${bin}.`,
    `Run \`npm install\` in ${dir} (${tool} is one of its dependencies), then run again.`,
  );
}

/** Names of the folders in `dir` (none when it does not exist), sorted. */
export function listDirs(dir: string): string[] {
  if (!isDirectory(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}
