import { relative, sep } from 'node:path';
import { CONFIG_FILES } from '../config/load.js';
import { readConfigDocument } from '../config/read-file.js';
import type { ResolvedConfig } from '../config/types.js';
import { findMigrationsFolder } from '../db/migrate/sources.js';
import { detectTool } from '../db/tools/detect.js';
import { appOpsctlSpec, type CiApp } from './ci.js';
import { nodeMajor, ownerOf } from './detect.js';
import { installTargets } from './package-files.js';

/** The CI pipeline's view of an app that has a config already (`init --ci` on it writes only the CI file). */
export function ciAppFromConfig(config: ResolvedConfig, opsctlVersion: string): CiApp {
  const packages = config.appPackages ?? config.packages;
  const file = config.file && relative(config.root, config.file).split(sep).join('/');
  return {
    ...(file && !CONFIG_FILES.includes(file) ? { configFile: file } : {}),
    packages: installTargets(config.root, packages),
    nodeVersion: nodeMajor(packages),
    opsctlVersion,
    ...appOpsctlSpec(config.root),
    migrations: migrationsPackageOf(config) !== undefined || hasMigrationsFolder(config),
    ...rawDatabaseVariable(config),
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

/** The app migration tool the config's app has (`database.tool`, or detected), if one. */
export function toolOf(config: ResolvedConfig): { tool?: string } {
  try {
    const choice = detectTool(config);
    return choice ? { tool: choice.tool } : {};
  } catch {
    return {};
  }
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

interface RawConfig {
  database?: { url?: unknown };
  environments?: Record<string, unknown>;
}

/** The config file as written, before interpolation. */
function rawConfig(config: ResolvedConfig): RawConfig {
  return ((config.file && readConfigDocument(config.file).data) || {}) as RawConfig;
}

function hasProductionEnvironment(config: ResolvedConfig): boolean {
  return Boolean(rawConfig(config).environments?.production);
}

/** `database.url: ${PG_URL}` → PG_URL. */
function rawDatabaseVariable(config: ResolvedConfig): { databaseVariable?: string } {
  const url = rawConfig(config).database?.url;
  const name = typeof url === 'string' ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$/.exec(url)?.[1] : undefined;
  return name ? { databaseVariable: name } : {};
}
