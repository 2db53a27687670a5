import { existsSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { configError, usageError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import { CI_PROVIDERS, type CiApp, type CiProvider, renderCi } from './ci.js';
import { CONFIG_FILE, configFiles } from './config-file.js';
import { plannedScripts, type ScriptChange, scriptsText } from './npm-scripts.js';
import { type FileToWrite, writeFilesTogether } from './write-files.js';

/** What `init` is asked to write (README, "`opsctl init`"). */
export interface InitPlan {
  root: string;
  /** The config text; absent when only the extras are written (the app has a config). */
  config?: string;
  /** Config files there now that the new one replaces (`--force`). */
  replaces: string[];
  /** `--scripts`: the package holding the migrations. */
  scriptsPackage?: AppPackage;
  /** The app migration tool that runs them (`database.tool`), if any. */
  tool?: string;
  ci?: { provider: CiProvider; app: CiApp };
  force: boolean;
  dryRun: boolean;
}

/** What `init` wrote, or under `--dry-run` would write. */
export interface InitResult {
  files: Array<{ path: string; action: 'written' | 'replaced' | 'unchanged' | 'removed' }>;
  scripts?: { package: string; changes: ScriptChange[] };
  /** The texts, under `--dry-run` (nothing is written then). */
  preview?: Record<string, string>;
}

/** Check everything first (nothing is written when one file may not be), then write. */
export function applyInit(plan: InitPlan): InitResult {
  const ciText = plan.ci && renderCi(plan.ci.provider, plan.ci.app);
  const ciFile = plan.ci && CI_PROVIDERS[plan.ci.provider];
  if (ciFile && !plan.force && existsSync(join(plan.root, ciFile))) {
    throw configError(
      `${ciFile} exists already; opsctl init does not overwrite it.`,
      'Pass --force to replace it. Nothing was written.',
    );
  }
  const changes = plan.scriptsPackage ? plannedScripts(plan.root, plan.scriptsPackage, plan.tool) : undefined;
  const result: InitResult = { files: [] };
  if (changes && plan.scriptsPackage) result.scripts = { package: plan.scriptsPackage.name, changes };
  if (plan.dryRun) {
    result.preview = {
      ...(plan.config ? { [CONFIG_FILE]: plan.config } : {}),
      ...(ciFile && ciText ? { [ciFile]: ciText } : {}),
    };
    return result;
  }
  const manifest = plan.scriptsPackage && changes && scriptsText(plan.scriptsPackage, changes);
  const manifestPath = plan.scriptsPackage && posix.join(plan.scriptsPackage.path, 'package.json');
  const files: FileToWrite[] = [
    ...(plan.config ? configFiles(plan.root, plan.config, plan.force) : []),
    ...(manifest && manifestPath ? [{ path: manifestPath, text: manifest, exclusive: false }] : []),
    ...(ciFile && ciText ? [{ path: ciFile, text: ciText, exclusive: !plan.force }] : []),
  ];
  const existed = writeFilesTogether(plan.root, files);
  // the package.json gains scripts: written, as before; replaced means a file of init's own made anew
  const action = (f: FileToWrite, i: number) =>
    existed[i] && f.path !== manifestPath ? ('replaced' as const) : ('written' as const);
  result.files.push(...files.map((f, i) => ({ path: f.path, action: action(f, i) })));
  if (manifestPath && !manifest) result.files.push({ path: manifestPath, action: 'unchanged' });
  if (plan.config) {
    // a config under another name would be read before the new one (README, "Config")
    for (const old of plan.replaces.filter((f) => f !== CONFIG_FILE)) {
      rmSync(join(plan.root, old));
      result.files.push({ path: old, action: 'removed' });
    }
  }
  return result;
}

/** `--scripts` needs the package that holds the migrations; without migrations it is a usage error. */
export function verifyScriptsPackage(packages: AppPackage[], name: string | undefined): AppPackage {
  const pkg = name === undefined ? undefined : packages.find((p) => p.name === name);
  if (!pkg) {
    throw usageError(
      '--scripts adds migrate, rollback and debug scripts to the package that holds the migrations, and this app has none.',
      'Create the migrations folder first (`opsctl migrate create <name>`), or leave --scripts out. Nothing was written.',
    );
  }
  return pkg;
}
