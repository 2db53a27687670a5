import { basename } from 'node:path';
import type pg from 'pg';
import { packageEnv } from '../../app/env.js';
import type { ResolvedConfig } from '../../config/types.js';
import { usageError } from '../../errors.js';
import type { AppPackage } from '../../packages/types.js';
import { ADAPTERS, adapterFor } from './index.js';
import { readManifest, tableExists } from './state.js';
import type { AppToolId, FileEvidence, ToolAdapter, ToolChoice } from './types.js';

/** The tool as `config show` and `migrate status --json` report it (README, "JSON shapes"). */
export interface ToolReport {
  id: string;
  package: string | null;
  reasons: string[];
  table: string;
}

interface Candidate {
  adapter: ToolAdapter;
  pkg: AppPackage;
  evidence: FileEvidence;
}

/**
 * The app tool that owns the migrations (README, "Apps with their own migration tool"): `database.tool` when set,
 * else the one tool the packages' files point at. Undefined = opsctl's own engine. Several tools, or an override
 * no package can take, are a usage error (exit 2) that says how to choose; nothing is run then.
 */
export function detectTool(config: ResolvedConfig): ToolChoice | undefined {
  const configured = config.database.tool;
  if (configured === 'opsctl') return undefined;
  if (configured) return chooseConfigured(config, adapterFor(configured));
  const found = candidates(config, ADAPTERS);
  // a package's own "migrate" script is the fallback when nothing more specific points at its tool
  const specific = found.filter((c) => c.adapter.id !== 'scripts' || !found.some((o) => o.pkg === c.pkg && o !== c));
  if (specific.length > 1) throw ambiguous(config, specific);
  const only = specific[0];
  return only && toChoice(config, only, []);
}

const ROOTS = new WeakMap<ResolvedConfig, AppPackage | null>();

/** The app root as a package when discovery left it out (a package.json without scripts), else undefined. */
function rootOnly(config: ResolvedConfig): AppPackage | undefined {
  if (!ROOTS.has(config)) {
    const listed = (config.appPackages ?? config.packages).some((p) => p.dir === config.root);
    const manifest = listed ? undefined : readManifest(config.root);
    ROOTS.set(config, manifest && Object.keys(manifest).length ? rootPackage(config.root, manifest) : null);
  }
  return ROOTS.get(config) ?? undefined;
}

function rootPackage(root: string, manifest: Record<string, unknown>): AppPackage {
  const deps = (key: string) => (manifest[key] ?? {}) as Record<string, string>;
  return {
    name: 'app',
    dir: root,
    path: '.',
    scripts: deps('scripts'),
    dependencies: deps('dependencies'),
    devDependencies: deps('devDependencies'),
    dependsOn: [],
    env: {},
    outputs: [],
  };
}

/** The packages a tool may live in: the app's packages, and the app root when discovery left it out. */
export function toolPackages(config: ResolvedConfig): AppPackage[] {
  const packages = config.appPackages ?? config.packages;
  const root = rootOnly(config);
  return root ? [...packages, root] : packages;
}

/**
 * What the app's packages show; when none shows anything, what the app root shows: it is no package when its
 * package.json has no scripts, yet it may hold the tool (README, "Apps with their own migration tool").
 */
function candidates(config: ResolvedConfig, adapters: ToolAdapter[]): Candidate[] {
  const found = candidatesIn(config.appPackages ?? config.packages, adapters);
  const root = rootOnly(config);
  return found.length || !root ? found : candidatesIn([root], adapters);
}

function candidatesIn(packages: AppPackage[], adapters: ToolAdapter[]): Candidate[] {
  const found: Candidate[] = [];
  for (const pkg of packages) {
    const manifest = readManifest(pkg.dir);
    for (const adapter of adapters) {
      const evidence = adapter.detect(pkg.dir, manifest);
      if (evidence) found.push({ adapter, pkg, evidence });
    }
  }
  return found;
}

function chooseConfigured(config: ResolvedConfig, adapter: ToolAdapter): ToolChoice {
  const why = `database.tool is "${adapter.id}" in ${configName(config)}`;
  const found = candidates(config, [adapter]);
  if (found.length === 1) return toChoice(config, found[0]!, [why]);
  if (!found.length) {
    const listed = config.appPackages ?? config.packages;
    const packages = listed.length ? listed : toolPackages(config);
    const pkg = packages.length === 1 ? packages[0] : packages.find((p) => p.scripts.migrate);
    if (pkg) return toChoice(config, { adapter, pkg, evidence: { reasons: [] } }, [why]);
  }
  const names = found.map((c) => c.pkg.name);
  throw usageError(
    found.length
      ? `database.tool is "${adapter.id}", and several packages use it: ${names.join(', ')}.`
      : `database.tool is "${adapter.id}", but no package shows it (no dependency, config file or "migrate" script).`,
    found.length
      ? 'opsctl migrates one package per app: keep the migrations in one package, or run the tool yourself.'
      : `Add ${adapter.id} to the package that owns the migrations, or set database.tool to the tool it uses. Nothing was run.`,
  );
}

function toChoice(config: ResolvedConfig, { adapter, pkg, evidence }: Candidate, first: string[]): ToolChoice {
  const nodeEnv = packageEnv(config, pkg).NODE_ENV;
  return {
    ...(nodeEnv ? { nodeEnv } : {}),
    tool: adapter.id,
    pkg: pkg.name,
    dir: pkg.dir,
    reasons: [...first, ...evidence.reasons],
    ...(evidence.migrationsDir ? { migrationsDir: evidence.migrationsDir } : {}),
    table: evidence.table ?? adapter.defaultTable,
  };
}

function ambiguous(config: ResolvedConfig, found: Candidate[]) {
  const list = found.map((c) => `${c.adapter.id} (${c.pkg.name}: ${c.evidence.reasons.join(', ')})`).join('; ');
  const ids = [...new Set(found.map((c) => c.adapter.id))];
  return usageError(
    `Cannot tell which migration tool owns this app's migrations: ${list}.`,
    `Set database.tool in ${configName(config)} to one of ${ids.join(', ')} (or "opsctl" for opsctl's own engine). Nothing was run.`,
  );
}

function configName(config: ResolvedConfig): string {
  return config.file ? basename(config.file) : 'opsctl.config.json';
}

/** Adds what the database says: the tool's state table exists, or not yet (nothing executed). */
export async function withTableEvidence(client: pg.Client, choice: ToolChoice): Promise<ToolChoice> {
  if (!choice.table) return choice;
  const exists = await tableExists(client, choice.table);
  return {
    ...choice,
    reasons: [...choice.reasons, exists ? `table ${choice.table} exists` : `no ${choice.table} table yet`],
  };
}

/** What `config show` and `migrate status` print about the tool. */
export function reportTool(config: ResolvedConfig, choice: ToolChoice | undefined): ToolReport {
  if (choice) return { id: choice.tool, package: choice.pkg, reasons: choice.reasons, table: choice.table };
  return {
    id: 'opsctl',
    package: null,
    reasons: [
      config.database.tool === 'opsctl'
        ? `database.tool is "opsctl" in ${configName(config)}`
        : 'no app migration tool detected (dependencies, config files, "migrate" scripts)',
    ],
    table: `${config.database.schema}.${config.database.table}`,
  };
}

export type { AppToolId };
