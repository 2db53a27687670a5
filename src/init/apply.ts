import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { configError, usageError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';
import { CI_PROVIDERS, type CiApp, type CiProvider, renderCi, writeCi } from './ci.js';
import { CONFIG_FILE, writeConfigFiles } from './config-file.js';
import { plannedScripts, type ScriptChange, writeScripts } from './npm-scripts.js';

/** What `init` is asked to write (README, "`opsctl init`"). */
export interface InitPlan {
  root: string;
  /** The config text; absent when only the extras are written (the app has a config). */
  config?: string;
  /** Config files there now that the new one replaces (`--force`). */
  replaces: string[];
  /** `--scripts`: the package holding the migrations. */
  scriptsPackage?: AppPackage;
  ci?: { provider: CiProvider; app: CiApp };
  force: boolean;
  dryRun: boolean;
}

/** What `init` wrote, or under `--dry-run` would write. */
export interface InitResult {
  files: Array<{ path: string; action: 'written' | 'replaced' | 'unchanged' }>;
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
  const changes = plan.scriptsPackage ? plannedScripts(plan.root, plan.scriptsPackage) : undefined;
  const result: InitResult = { files: [] };
  if (changes && plan.scriptsPackage) result.scripts = { package: plan.scriptsPackage.name, changes };
  if (plan.dryRun) {
    result.preview = {
      ...(plan.config ? { [CONFIG_FILE]: plan.config } : {}),
      ...(ciFile && ciText ? { [ciFile]: ciText } : {}),
    };
    return result;
  }
  if (plan.config) {
    for (const old of plan.replaces.filter((f) => f !== CONFIG_FILE)) rmSync(join(plan.root, old));
    const replaced = plan.replaces.includes(CONFIG_FILE);
    for (const path of writeConfigFiles(plan.root, plan.config)) {
      result.files.push({ path, action: path === CONFIG_FILE && replaced ? 'replaced' : 'written' });
    }
  }
  if (plan.scriptsPackage && changes) {
    writeScripts(plan.scriptsPackage, changes);
    const path = plan.scriptsPackage.path === '.' ? 'package.json' : `${plan.scriptsPackage.path}/package.json`;
    result.files.push({ path, action: changes.some((c) => c.added) ? 'written' : 'unchanged' });
  }
  if (plan.ci && ciText && ciFile) {
    const existed = existsSync(join(plan.root, ciFile));
    result.files.push({ path: writeCi(plan.root, plan.ci.provider, ciText), action: existed ? 'replaced' : 'written' });
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
