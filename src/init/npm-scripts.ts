import { readFileSync, writeFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { configError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import { entryOf } from './package-files.js';

const DEFAULT_DEBUG_PORT = 9229;

/** One script `--scripts` adds, or found there already (then left as it is, and not shown: it may hold a secret). */
export interface ScriptChange {
  name: 'migrate' | 'rollback' | 'debug';
  /** The script added. */
  script?: string;
  added: boolean;
}

/**
 * The scripts `init --scripts` puts in the package that holds the migrations (README, "`opsctl init`"): `migrate`
 * and `rollback` run opsctl on the app root; `debug` starts the package with the inspector on loopback (what
 * `opsctl debug` runs when the package has it, so it must not call opsctl itself).
 */
export function plannedScripts(root: string, pkg: AppPackage): ScriptChange[] {
  const debugPort = pkg.debugPort ?? DEFAULT_DEBUG_PORT;
  const up = relative(pkg.dir, root).split(sep).join('/');
  const opsctl = up ? `opsctl -C ${up}` : 'opsctl';
  const entry = entryOf(pkg);
  const wanted: Array<[ScriptChange['name'], string | undefined]> = [
    ['migrate', `${opsctl} migrate`],
    ['rollback', `${opsctl} rollback`],
    ['debug', entry && `node --inspect=127.0.0.1:${debugPort} ${entry}`],
  ];
  return wanted
    .filter((w): w is [ScriptChange['name'], string] => Boolean(w[1]))
    .map(([name, script]) => {
      const existing = pkg.scripts[name];
      return existing === undefined ? { name, script, added: true } : { name, added: false };
    });
}

/** Add the planned scripts to the package.json, keeping its indentation, key order and final newline. */
export function writeScripts(pkg: AppPackage, changes: ScriptChange[]): void {
  const added = changes.filter((c) => c.added);
  if (!added.length) return;
  const file = join(pkg.dir, 'package.json');
  const text = readFileSync(file, 'utf8');
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw configError(`${posix.join(pkg.path, 'package.json')}: invalid JSON.`, 'Fix the package.json syntax.', err);
  }
  const scripts = { ...((manifest.scripts as Record<string, string> | undefined) ?? {}) };
  for (const c of added) scripts[c.name] = c.script!;
  manifest.scripts = scripts;
  const indent = /^[ \t]+/m.exec(text)?.[0] ?? '  ';
  writeFileSync(file, `${JSON.stringify(manifest, null, indent)}${text.endsWith('\n') ? '\n' : ''}`);
}
