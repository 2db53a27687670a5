import { readConfigDocument } from '../config/read-file.js';
import type { ResolvedConfig } from '../config/types.js';
import { findMigrationsFolder } from '../db/migrate/sources.js';
import { detectTool } from '../db/tools/detect.js';
import type { CiApp } from './ci.js';
import { nodeMajor, ownerOf } from './detect.js';
import { hasLockfile } from './package-files.js';

/** The CI pipeline's view of an app that has a config already (`init --ci` on it writes only the CI file). */
export function ciAppFromConfig(config: ResolvedConfig, opsctlVersion: string): CiApp {
  const packages = config.appPackages ?? config.packages;
  return {
    packages: packages.map((p) => ({ path: p.path, hasLockfile: hasLockfile(p.dir) })),
    nodeVersion: nodeMajor(packages),
    opsctlVersion,
    migrations: migrationsPackageOf(config) !== undefined || hasMigrationsFolder(config),
    production: hasProductionEnvironment(config),
  };
}

/** The package that holds the app's migrations: the migration tool's, else the one the folder is in. */
export function migrationsPackageOf(config: ResolvedConfig): string | undefined {
  try {
    const choice = detectTool(config);
    if (choice) return choice.pkg;
  } catch {
    // several tools: none is "the" package
    return undefined;
  }
  const folder = safeFolder(config);
  if (!folder) return undefined;
  return ownerOf(folder, config.appPackages ?? config.packages);
}

function hasMigrationsFolder(config: ResolvedConfig): boolean {
  return safeFolder(config) !== undefined;
}

function safeFolder(config: ResolvedConfig): string | undefined {
  try {
    return findMigrationsFolder(config.root, config.database.migrations)?.label;
  } catch {
    return undefined;
  }
}

function hasProductionEnvironment(config: ResolvedConfig): boolean {
  if (!config.file) return false;
  const data = readConfigDocument(config.file).data as { environments?: Record<string, unknown> } | null;
  return Boolean(data?.environments?.production);
}
