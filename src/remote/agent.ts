import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Runner } from '../process/runner.js';
import { type Archive, packArchive } from './archive.js';

/**
 * opsctl as it runs on a host (README, "Several hosts"): its package.json, bin/, dist/ bundle and templates/ (PM2 ecosystem), and the runtime
 * packages the bundle leaves external that host-side commands need: PM2 and what it depends on. Not the database,
 * pty, parser or audit packages: hosts only run deploy's switch, status, start/stop/restart/scale, logs, doctor.
 */
const HOST_PACKAGES = ['pm2'];

/** opsctl's own install folder (dist/cli/<chunk>.js and src/remote/agent.ts both sit two levels below it). */
export function opsctlRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** Pack the agent into `file`; its sha256 names its folder on the hosts, so a new opsctl ships once. */
export async function packAgent(runner: Runner, file: string, root = opsctlRoot()): Promise<Archive> {
  const modules = realpathSync(join(root, 'node_modules'));
  const closure = new Set<string>();
  for (const name of HOST_PACKAGES) addClosure(find(modules, modules, name), modules, closure);
  const entries = [
    'package.json',
    'bin',
    'dist',
    'templates',
    ...[...closure].sort().map((dir) => `node_modules/${relative(modules, dir)}`),
  ];
  return packArchive(runner, root, entries, file, ['*.map', 'dist/cli/meta.json']);
}

function addClosure(dir: string | undefined, modules: string, seen: Set<string>): void {
  if (!dir || seen.has(dir)) return;
  seen.add(dir);
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<
    string,
    Record<string, string>
  >;
  for (const dep of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
    addClosure(find(dir, modules, dep), modules, seen);
}

// hand-written: Node's resolution of a package folder (nearest node_modules up to the top one); require.resolve
// cannot be used because packages with `exports` may hide their package.json
function find(from: string, modules: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir === modules ? dir : join(dir, 'node_modules'), name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === modules || !dir.startsWith(modules)) return undefined;
  }
}
