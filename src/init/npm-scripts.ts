import { readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { configError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import { entryOf, shellWord } from './package-files.js';

const DEFAULT_DEBUG_PORT = 9229;
const OWN_TOOL =
  'its "migrate" script is its migration tool, and `opsctl rollback` runs its "rollback" script: add one that rolls back with that tool';

/** One script `--scripts` adds, or found there already (then left as it is, and not shown: it may hold a secret). */
export interface ScriptChange {
  name: 'migrate' | 'rollback' | 'debug';
  /** The script added. */
  script?: string;
  added: boolean;
  /** Why it was not added, when not because the package has one. */
  reason?: string;
}

/**
 * The scripts `init --scripts` puts in the package that holds the migrations (README, "`opsctl init`"): `migrate`
 * and `rollback` run opsctl on the app root; `debug` starts the package with the inspector on loopback (what
 * `opsctl debug` runs when the package has it, so it must not call opsctl itself).
 */
export function plannedScripts(root: string, pkg: AppPackage, tool?: string): ScriptChange[] {
  const debugPort = pkg.debugPort ?? DEFAULT_DEBUG_PORT;
  const up = relative(pkg.dir, root).split(sep).join('/');
  const opsctl = up ? `opsctl -C ${shellWord(up)}` : 'opsctl';
  const entry = entryOf(pkg);
  const wanted: Array<[ScriptChange['name'], string | undefined]> = [
    ['migrate', `${opsctl} migrate`],
    ['rollback', `${opsctl} rollback`],
    ['debug', entry && `node --inspect=127.0.0.1:${debugPort} ${shellWord(entry)}`],
  ];
  return wanted
    .filter((w): w is [ScriptChange['name'], string] => Boolean(w[1]))
    .map(([name, script]) => {
      if (pkg.scripts[name] !== undefined) return { name, added: false };
      // the package's own "migrate" script is its migration tool ("scripts"): `opsctl rollback` then runs the
      // package's "rollback" script, so one that runs `opsctl rollback` would call itself
      if (name === 'rollback' && tool === 'scripts') return { name, added: false, reason: OWN_TOOL };
      return { name, script, added: true };
    });
}

/**
 * The package.json text with the planned scripts added, keeping its indentation, key order, line endings (CRLF
 * too), byte-order mark and final newline; undefined when nothing is added.
 */
export function scriptsText(pkg: AppPackage, changes: ScriptChange[]): string | undefined {
  const added = changes.filter((c) => c.added);
  if (!added.length) return undefined;
  const text = readFileSync(join(pkg.dir, 'package.json'), 'utf8');
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(text.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  } catch (err) {
    throw configError(`${posix.join(pkg.path, 'package.json')}: invalid JSON.`, 'Fix the package.json syntax.', err);
  }
  const scripts = { ...((manifest.scripts as Record<string, string> | undefined) ?? {}) };
  for (const c of added) scripts[c.name] = c.script!;
  manifest.scripts = scripts;
  const indent = /^[ \t]+/m.exec(text)?.[0] ?? '  ';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const json = JSON.stringify(manifest, null, indent).replaceAll('\n', eol);
  return `${text.startsWith('\uFEFF') ? '\uFEFF' : ''}${json}${/\r?\n$/.test(text) ? eol : ''}`;
}
