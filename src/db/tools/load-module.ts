import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../../errors.js';
import { redact } from '../../output/redact.js';

/** A config module is app code: bounded like every child process (it may try to connect somewhere). */
const LOAD_TIMEOUT_MS = 15_000;
const MARKER = '@@opsctl-config@@';

/**
 * Import the app's config module (a knexfile, a TypeORM data source) and return `pick(module)` as JSON.
 *
 * In a child process, not an import: the module is the app's own code (it may load .env, open connections, print,
 * or need the app's TypeScript setup), and it must not run inside opsctl. Not parsed statically either: knexfiles
 * and data sources compute their settings (`path.join(__dirname, …)`, per-NODE_ENV sections, env variables), which
 * only running them gives right. Synchronous because `ToolAdapter.detect()` is. `.ts` modules load through tsx,
 * as opsctl's own TypeScript migrations do.
 */
export function loadAppModule(file: string, pick: string): { value?: unknown; error?: string } {
  const script = `
const file = process.argv[1];
let mod = await import(${JSON.stringify(pathToFileURL(file).href)});
const pick = ${pick};
const value = await pick(mod);
process.stdout.write('\\n${MARKER}' + JSON.stringify(value ?? null) + '\\n');
process.exit(0);`;
  const args = /\.[mc]?ts$/.test(file) ? ['--import', tsxLoader()] : [];
  const res = spawnSync(process.execPath, [...args, '--input-type=module', '-e', script, file], {
    cwd: dirname(file),
    encoding: 'utf8',
    timeout: LOAD_TIMEOUT_MS,
    env: process.env,
  });
  if (res.error) return { error: errorMessage(res.error) };
  const line = res.stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(MARKER));
  if (res.status === 0 && line) return { value: JSON.parse(line.slice(MARKER.length)) };
  if (res.signal) return { error: `stopped by ${res.signal} after ${LOAD_TIMEOUT_MS / 1000}s` };
  return { error: redact(lastErrorLine(res.stderr)) || `exited with code ${res.status}` };
}

function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

/** The error's own line from a Node stack trace (e.g. `Error: Cannot find module 'x'`), not the frames. */
function lastErrorLine(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim());
  return lines.find((l) => /^\w*Error\b.*:/.test(l)) ?? lines.filter(Boolean).at(-1) ?? '';
}
