import { existsSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import semver from 'semver';
import type { ResolvedConfig } from '../config/types.js';
import { CANDIDATE_FOLDERS } from '../db/migrate/sources.js';
import { detectTool } from '../db/tools/detect.js';
import { errorMessage, usageError } from '../errors.js';
import { discoverPackages } from '../packages/discover.js';
import type { AppPackage } from '../packages/types.js';
import { type PackageFacts, readPackageFacts } from './package-facts.js';
import { hasLockfile } from './package-files.js';
import type { DetectedApp, DetectedPackage, DetectedService, Found, InitAnswers } from './types.js';

const POSTGRES_CLIENTS = [
  'pg',
  'postgres',
  'pg-promise',
  'knex',
  'sequelize',
  'typeorm',
  '@prisma/client',
  'prisma',
  'slonik',
  'node-pg-migrate',
];
const REDIS_CLIENTS = ['ioredis', 'redis', '@redis/client'];
const DEFAULT_NODE_MAJOR = '20';

/**
 * What `opsctl init` finds in the app at `root` (README, "`opsctl init`"): the packages as discovery sees them
 * without a config, each one's port and health route, the migrations folder and tool, and the variables that hold
 * the database's and Redis's URLs. Reads files only; nothing runs.
 */
export async function detectApp(root: string): Promise<DetectedApp> {
  const packages = discoverForInit(root);
  if (!packages.length) {
    throw usageError(
      `No npm package found in ${root}: no package.json in it or its subfolders.`,
      'Run `opsctl init` in the app folder (or pass it with -C <dir>).',
    );
  }
  const { parseSync } = await import('oxc-parser');
  const facts = new Map<AppPackage, PackageFacts>();
  for (const pkg of packages) {
    const others = packages.filter((p) => p !== pkg && pkg.path === '.').map((p) => p.path);
    facts.set(pkg, await readPackageFacts(pkg, parseSync, others));
  }
  const rootFacts = packages.some((p) => p.path === '.') ? undefined : await rootEnv(root, parseSync);
  const config = configFor(root, packages);
  const { tool, toolProblem } = detectAppTool(config);
  const migrations = tool?.migrations ?? findMigrations(root, packages);
  return {
    root,
    packages: packages.map((p) => detectedPackage(p, facts.get(p)!)),
    ...(migrations ? { migrations } : {}),
    ...(tool ? { tool: { value: tool.id, source: tool.source, package: tool.package } } : {}),
    ...(toolProblem ? { toolProblem } : {}),
    ...service(facts, rootFacts, POSTGRES_CLIENTS, 'DATABASE_URL', /^postgres(ql)?:\/\//, 'database'),
    ...service(facts, rootFacts, REDIS_CLIENTS, 'REDIS_URL', /^rediss?:\/\//, 'redis'),
    nodeVersion: nodeMajor(packages),
  };
}

/**
 * The packages as discovery finds them without a config, each named by a key the config accepts (README, "Config":
 * letters, digits, ".", "_", "-") and unique: `services/api` beside `api` is `services-api`, as a config cannot
 * hold one key twice.
 */
export function discoverForInit(root: string): AppPackage[] {
  const taken = new Set<string>();
  const key = (text: string) => text.replace(/[^a-zA-Z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'app';
  return discoverPackages(root, undefined, 'opsctl.config.yaml').map((pkg) => {
    let name = key(pkg.name);
    if (taken.has(name)) name = key(pkg.path);
    for (let n = 2; taken.has(name); n++) name = `${key(pkg.name)}-${n}`;
    taken.add(name);
    return name === pkg.name ? pkg : { ...pkg, name };
  });
}

function detectedPackage(pkg: AppPackage, facts: PackageFacts): DetectedPackage {
  const starts = Boolean(pkg.scripts.start);
  return {
    name: pkg.name,
    path: pkg.path,
    starts,
    ...(starts && facts.port ? { port: facts.port } : {}),
    ...(starts && facts.health ? { health: facts.health } : {}),
    hasLockfile: hasLockfile(pkg.dir),
  };
}

/** The root's `.env` files and top-level code (`.env` is what opsctl itself reads) when the root is no package. */
function rootEnv(root: string, parseSync: typeof import('oxc-parser').parseSync): Promise<PackageFacts> {
  return readPackageFacts({ dir: root, path: '.', scripts: {} }, parseSync, ['*']);
}

/** Enough of a resolved config for migration tool detection: the packages as found, nothing configured. */
function configFor(root: string, packages: AppPackage[]): ResolvedConfig {
  return {
    root,
    packages,
    database: { source: 'none', table: 'opsctl_migrations', schema: 'public' },
    redis: {},
    logs: [],
    audit: {},
    pipelines: {},
    doctor: {},
    watch: {},
    alerts: [],
    targets: {},
    env: {},
    warnings: [],
  };
}

function detectAppTool(config: ResolvedConfig): {
  tool?: { id: string; package: string; source: string; migrations?: Found<string> & { package: string } };
  toolProblem?: string;
} {
  try {
    const choice = detectTool(config);
    if (!choice) return {};
    const folder = choice.migrationsDir && relativeFolder(config.root, choice.migrationsDir);
    const source = choice.reasons.join(', ');
    return {
      tool: {
        id: choice.tool,
        package: choice.pkg,
        source,
        ...(folder ? { migrations: { value: folder, source: `${choice.tool}: ${source}`, package: choice.pkg } } : {}),
      },
    };
  } catch (error) {
    return { toolProblem: errorMessage(error) };
  }
}

/** opsctl's own engine: the folders it looks in by default, then each package's `migrations` / `db/migrations`. */
export function findMigrations(
  root: string,
  packages: AppPackage[],
): (Found<string> & { package?: string }) | undefined {
  const perPackage = packages.flatMap((p) =>
    ['migrations', 'db/migrations'].map((f) => (p.path === '.' ? f : posix.join(p.path, f))),
  );
  const folder = [...CANDIDATE_FOLDERS, ...perPackage].find((f) => isDir(join(root, f)));
  if (!folder) return undefined;
  const owner = ownerOf(folder, packages);
  return { value: folder, source: `folder ${folder}/`, ...(owner ? { package: owner } : {}) };
}

/**
 * The variable a service's URL comes from: a name the packages using its client read, or whose `.env` value has its
 * scheme; the usual name when it is among them or nothing more specific shows.
 */
function service(
  facts: Map<AppPackage, PackageFacts>,
  rootFacts: PackageFacts | undefined,
  clients: string[],
  usual: string,
  scheme: RegExp,
  key: 'database' | 'redis',
): Partial<Record<'database' | 'redis', DetectedService>> {
  const reasons: string[] = [];
  const names = new Map<string, string>();
  const word = key === 'database' ? /DATABASE|POSTGRES|^PG|^DB_/ : /REDIS/;
  for (const [pkg, f] of [...facts, ...(rootFacts ? [[undefined, rootFacts] as const] : [])]) {
    const client = pkg && clients.find((c) => pkg.dependencies[c] || pkg.devDependencies[c]);
    if (client) reasons.push(`${client} in ${pkg.name}`);
    for (const [name, where] of f.envNames) {
      const value = f.envValues.get(name);
      const urlName = /_(URL|URI|DSN)$|CONNECTION_STRING$/.test(name) && word.test(name);
      if ((value !== undefined && scheme.test(value.trim())) || ((client || !pkg) && urlName)) names.set(name, where);
    }
  }
  if (!reasons.length && !names.size) return {};
  const variable = names.has(usual) ? usual : ([...names.keys()][0] ?? usual);
  if (names.has(variable)) reasons.push(`${variable} in ${names.get(variable)}`);
  return { [key]: { variable, reasons } };
}

export function nodeMajor(packages: AppPackage[]): string {
  const majors = packages
    .map((p) => p.engines?.node && semver.validRange(p.engines.node) && semver.minVersion(p.engines.node)?.major)
    .filter((m): m is number => typeof m === 'number' && m > 0);
  return majors.length ? String(Math.max(...majors, Number(DEFAULT_NODE_MAJOR))) : DEFAULT_NODE_MAJOR;
}

function relativeFolder(root: string, dir: string): string | undefined {
  const rel = relative(root, dir);
  return rel && !rel.startsWith('..') ? rel.split(sep).join('/') : undefined;
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** The answers `--yes` takes: everything as detected (README, "`opsctl init`"). */
export function detectedAnswers(app: DetectedApp): InitAnswers {
  return {
    packages: app.packages.map((p) => ({
      name: p.name,
      path: p.path,
      ...(p.port ? { port: p.port.value } : {}),
      ...(p.health ? { health: p.health.value } : {}),
    })),
    // an app tool finds its own migrations; database.migrations is opsctl's engine's folder
    ...(app.tool ? { tool: app.tool.value } : app.migrations ? { migrations: app.migrations.value } : {}),
    ...(app.database ? { databaseVariable: app.database.variable } : {}),
    ...(app.redis ? { redisVariable: app.redis.variable } : {}),
  };
}

/** The package that holds a migrations folder (the deepest package folder it is in). */
export function ownerOf(folder: string, packages: Array<{ name: string; path: string }>): string | undefined {
  return packages
    .filter((p) => p.path === '.' || folder.startsWith(`${p.path}/`))
    .sort((a, b) => b.path.length - a.path.length)[0]?.name;
}
