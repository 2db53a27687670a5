import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { configError } from '../errors.js';
import { addSecret, addSecretsFromEnv } from '../output/redact.js';
import { discoverPackages } from '../packages/discover.js';
import { readDotenv } from './dotenv.js';
import { deepMerge, interpolate, type UnsetRef, variablesUnder } from './interpolate.js';
import { describeIssue, readConfigDocument } from './read-file.js';
import { configSchema, type ParsedConfig } from './schema.js';
import type { ResolvedConfig } from './types.js';

export const CONFIG_FILES = ['opsctl.config.json', 'opsctl.config.yaml', 'opsctl.config.yml'];

export interface LoadOptions {
  cwd?: string;
  config?: string;
  env?: string;
  processEnv?: Record<string, string | undefined>;
  /**
   * The URL of the app's embedded database, when it has one (`opsctl db start`), for a config that names no
   * other. Config does not know the embedded database: its owner (src/db) is passed in by the front end.
   */
  embeddedDatabaseUrl?: (root: string) => string | undefined;
}

/** Read, validate and resolve the app's config. Every problem is an exit-2 `OpsError` naming file and key. */
export function loadConfig(options: LoadOptions = {}): ResolvedConfig {
  const root = verifyRoot(options.cwd ?? process.cwd());
  const processEnv = options.processEnv ?? process.env;
  const dotenv = readDotenv(root, processEnv);
  const env = { ...dotenv, ...processEnv };
  addSecretsFromEnv(env);
  const envName = options.env ?? processEnv.OPSCTL_ENV ?? undefined;

  const file = findConfigFile(root, options.config);
  const warnings: string[] = [];
  let parsed: ParsedConfig = {};
  let unset: UnsetRef[] = [];
  if (file) ({ parsed, unset } = validate(file, warnings, env));

  let merged: ParsedConfig = parsed;
  if (envName) {
    const overlay = parsed.environments?.[envName];
    if (!overlay && parsed.environments && Object.keys(parsed.environments).length) {
      throw configError(
        `${basename(file!)}: environments.${envName}: no such environment.`,
        `Known environments: ${Object.keys(parsed.environments).join(', ')}.`,
      );
    }
    merged = deepMerge(parsed, overlay ?? {});
  }
  const fileLabel = file ? basename(file) : 'opsctl.config.yaml';
  const packages = discoverPackages(root, merged.packages, fileLabel);
  const unsetRefs = unsetRefsOf(unset, envName);
  const database = resolveDatabase(root, merged, env, envName, options.embeddedDatabaseUrl);
  if (database.source === 'none' && unsetRefs['database.url']) database.unsetVars = unsetRefs['database.url'];
  return {
    root,
    file,
    envName,
    packages,
    database,
    redis: { url: merged.redis?.url ?? env.REDIS_URL },
    logs: merged.logs ?? [],
    audit: merged.audit ?? {},
    pipelines: merged.pipelines ?? {},
    doctor: merged.doctor ?? {},
    watch: merged.watch ?? {},
    alerts: merged.alerts ?? [],
    targets: merged.targets ?? {},
    encryption: merged.encryption,
    env,
    dotenvKeys: Object.keys(dotenv),
    unsetRefs,
    warnings,
  };
}

function verifyRoot(cwd: string): string {
  const root = resolve(cwd);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw configError(`The app folder "${cwd}" does not exist.`, 'Pass an existing folder with --cwd (-C).');
  }
  return root;
}

function findConfigFile(root: string, explicit: string | undefined): string | undefined {
  if (explicit) {
    const file = resolve(root, explicit);
    if (!existsSync(file))
      throw configError(`Config file "${explicit}" does not exist.`, 'Check the path given to --config (-c).');
    return file;
  }
  return CONFIG_FILES.map((name) => join(root, name)).find((f) => existsSync(f));
}

function validate(
  file: string,
  warnings: string[],
  env: Record<string, string | undefined>,
): { parsed: ParsedConfig; unset: UnsetRef[] } {
  const doc = readConfigDocument(file);
  if (doc.data === null || typeof doc.data !== 'object' || Array.isArray(doc.data)) {
    throw configError(
      `${basename(file)}: expected a mapping of keys at the top level.`,
      'See `opsctl config schema` for the keys.',
    );
  }
  const { value, missing, unset } = interpolate(doc.data, env);
  // what an alert sink gets through ${VAR} (a pager's routing key, a token in an argument) is never printed, even
  // when the command echoes it on a failure (README, "`opsctl watch`")
  for (const name of variablesUnder(doc.data, 'alerts')) addSecret(env[name]);
  for (const name of new Set(missing))
    warnings.push(`${basename(file)}: \${${name}} is not set; it was replaced by an empty string.`);
  const result = configSchema.safeParse(value, { reportInput: true });
  if (!result.success) {
    const lines = result.error.issues.map((issue) => describeIssue(doc, issue));
    throw configError(lines.join('\n  '), 'Fix the config file; `opsctl config schema` prints the JSON Schema.');
  }
  return { parsed: result.data, unset };
}

/**
 * Config values that read a variable not set here, keyed by their path after the `--env` overlay
 * (`environments.production.database.url` is `database.url` under `--env production`; other environments' are left
 * out). start/restart and doctor name them (README, "`opsctl status`, `start|stop|restart`").
 */
function unsetRefsOf(unset: UnsetRef[], envName: string | undefined): Record<string, string[]> {
  const refs: Record<string, string[]> = {};
  for (const { path, name } of unset) {
    let at = path;
    if (path[0] === 'environments') {
      if (path[1] !== envName) continue;
      at = path.slice(2);
    }
    const key = at.join('.');
    refs[key] = [...new Set([...(refs[key] ?? []), name])];
  }
  return refs;
}

function resolveDatabase(
  root: string,
  config: ParsedConfig,
  env: Record<string, string | undefined>,
  envName: string | undefined,
  embeddedDatabaseUrl: LoadOptions['embeddedDatabaseUrl'],
): ResolvedConfig['database'] {
  const base = {
    migrations: config.database?.migrations,
    ...(config.database?.seeds ? { seeds: config.database.seeds } : {}),
    table: config.database?.table ?? 'opsctl_migrations',
    schema: config.database?.schema ?? 'public',
    ...(config.database?.tool ? { tool: config.database.tool } : {}),
  };
  if (config.database?.url) return { ...base, url: config.database.url, source: 'config' };
  if (env.DATABASE_URL) return { ...base, url: env.DATABASE_URL, source: 'env' };
  if (envName === 'production') return { ...base, source: 'none' };
  return { ...base, url: embeddedDatabaseUrl?.(root), source: 'embedded' };
}
