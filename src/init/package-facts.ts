import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { glob } from 'tinyglobby';
import { addEnvValue, addScriptSecrets } from '../output/redact.js';
import type { AppPackage } from '../packages/types.js';
import { type CodeFacts, healthRank, scanSource } from './code-scan.js';
import { entryOf } from './package-files.js';
import type { Found } from './types.js';

type Parse = typeof import('oxc-parser').parseSync;

const SOURCES = '**/*.{js,cjs,mjs,ts,cts,mts,jsx,tsx}';
const NOT_APP_CODE = [
  '**/node_modules/**',
  '**/dist/**',
  '**/build/**',
  '**/coverage/**',
  '**/.*/**',
  '**/test/**',
  '**/tests/**',
  '**/__tests__/**',
  '**/*.{test,spec}.*',
  '**/*.d.ts',
  '**/*.min.js',
];
/** Enough for an app's own server code; a bigger tree is read in part (the entry file always first). */
const MAX_FILES = 400;
const MAX_FILE_BYTES = 512 * 1024;
/** Scripts that start the package, in the order their port counts. */
const START_SCRIPTS = ['start', 'dev', 'serve', 'preview'];
/** `.env` files of the package whose PORT counts, in order (the example last). */
const ENV_FILES = ['.env', '.env.local', '.env.example'];

/** What a package's scripts, `.env` files and code say about it. */
export interface PackageFacts {
  port?: Found<number>;
  health?: Found<string>;
  /** Every env variable name the package reads or sets, with where it was seen. */
  envNames: Map<string, string>;
  /** Values of its `.env` files by name (read for their scheme only: never shown). */
  envValues: Map<string, string>;
}

/**
 * Port (scripts, then `.env` files, then code), health route and env variable names of one package (README,
 * "`opsctl init`"). `others` are the other packages' folders, left out when the package is the app root.
 */
export async function readPackageFacts(
  pkg: Pick<AppPackage, 'dir' | 'path' | 'scripts' | 'main'>,
  parseSync: Parse,
  others: string[],
): Promise<PackageFacts> {
  addScriptSecrets(pkg.scripts);
  const label = (file: string) => posix.join(pkg.path === '.' ? '' : pkg.path, file);
  const { values: envValues, files: envFiles } = readEnvFiles(pkg.dir);
  const envNames = new Map([...envFiles].map(([k, file]) => [k, label(file)]));
  let port = portFromScripts(pkg.scripts) ?? portFromEnv(pkg.dir, label);
  let health: Found<string> | undefined;
  const ignore = [...NOT_APP_CODE, ...others.map((o) => `${o}/**`)];
  const files = orderFiles(await glob(SOURCES, { cwd: pkg.dir, ignore, followSymbolicLinks: false }), entryOf(pkg));
  for (const file of files.slice(0, MAX_FILES)) {
    const text = readSmall(join(pkg.dir, file));
    if (text === undefined || !/PORT|listen|health|ready|ping|process\.env/i.test(text)) continue;
    const facts: CodeFacts = scanSource(parseSync, file, text);
    for (const name of facts.envNames) if (!envNames.has(name)) envNames.set(name, label(file));
    const first = facts.ports[0];
    if (!port && first) port = { value: first.port, source: `${label(file)}:${lineOf(text, first.offset)}` };
    for (const hit of facts.health) {
      if (!health || healthRank(hit.path) < healthRank(health.value)) {
        health = { value: hit.path, source: `${label(file)}:${lineOf(text, hit.offset)}` };
      }
    }
  }
  return { ...(port ? { port } : {}), ...(health ? { health } : {}), envNames, envValues };
}

/** `PORT=4000 node server.js`, `next start -p 3000`, `vite --port 5173`. */
export function portFromScripts(scripts: Record<string, string>): Found<number> | undefined {
  for (const name of START_SCRIPTS) {
    const script = scripts[name];
    if (!script) continue;
    const match = /\bPORT=(\d{2,5})\b/.exec(script) ?? /(?:--port[= ]|(?:^|\s)-p\s+)(\d{2,5})\b/.exec(script);
    const port = Number(match?.[1]);
    // only the part that set the port: the rest of a script may hold a secret (`API_TOKEN=… node server.js`)
    if (match && port >= 1 && port <= 65535) return { value: port, source: `script "${name}" (${match[0].trim()})` };
  }
  return undefined;
}

function portFromEnv(dir: string, label: (file: string) => string): Found<number> | undefined {
  for (const file of ENV_FILES) {
    const value = readEnvFile(join(dir, file)).PORT;
    if (value && /^\d{2,5}$/.test(value.trim()) && Number(value) <= 65535) {
      return { value: Number(value), source: `${label(file)}: PORT=${value.trim()}` };
    }
  }
  return undefined;
}

/** Every key of the package's `.env` files: its value and the file it is first in. */
function readEnvFiles(dir: string): { values: Map<string, string>; files: Map<string, string> } {
  const values = new Map<string, string>();
  const files = new Map<string, string>();
  for (const file of ENV_FILES) {
    for (const [key, value] of Object.entries(readEnvFile(join(dir, file)))) {
      if (values.has(key)) continue;
      addEnvValue(key, value); // never shown by init; masked should anything else print it
      values.set(key, value);
      files.set(key, file);
    }
  }
  return { values, files };
}

function readEnvFile(file: string): Record<string, string> {
  const text = existsSync(file) ? readSmall(file) : undefined;
  return text === undefined ? {} : parseDotenv(text);
}

function readSmall(file: string): string | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > MAX_FILE_BYTES || text.includes('\0') ? undefined : text;
  } catch {
    return undefined;
  }
}

/** The entry first, then files nearer the package's top, then by name: where a server's port is usually set. */
function orderFiles(files: string[], entry: string | undefined): string[] {
  const depth = (f: string) => f.split('/').length;
  return files.sort((a, b) => Number(b === entry) - Number(a === entry) || depth(a) - depth(b) || a.localeCompare(b));
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
