import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { PackageConfig } from '../config/schema.js';
import { configError, usageError } from '../errors.js';
import { orderPackages } from '../graph/package-graph.js';
import type { AppPackage } from './types.js';
import { expandWorkspaces } from './workspaces.js';

const NESTED_FOLDERS = ['services', 'packages', 'apps'];
const SKIPPED = new Set(['node_modules', '.git', '.opsctl', 'dist', 'build']);
const DEFAULT_OUTPUTS = ['dist', 'build'];

interface PackageJson {
  name?: string;
  version?: string;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  engines?: Record<string, string>;
  workspaces?: string[] | { packages?: string[] };
  main?: string;
}

export function readPackageJson(dir: string): PackageJson | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  const name = relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    // not a syntax problem: "invalid JSON" would send the operator to the wrong fix
    throw configError(
      `${name}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
      'Make it readable for the user running opsctl (every package.json of the app is read).',
      err,
    );
  }
  let pkg: unknown;
  try {
    pkg = JSON.parse(text.replace(/^\uFEFF/, '')); // a byte-order mark (Windows editors), which npm accepts too
  } catch (err) {
    throw configError(`${name}: invalid JSON: ${(err as Error).message}`, 'Fix the package.json syntax.', err);
  }
  return verifyManifestShape(name, pkg);
}

/** What npm itself requires of the fields opsctl reads: an object, and scripts as name → command line. */
function verifyManifestShape(name: string, pkg: unknown): PackageJson {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(pkg))
    throw configError(`${name}: not a JSON object.`, 'A package.json holds one object: { "name": … }.');
  const scripts = pkg.scripts;
  if (scripts != null && (!isObject(scripts) || Object.values(scripts).some((v) => typeof v !== 'string'))) {
    throw configError(
      `${name}: "scripts" must map each script name to a command line (a string).`,
      'Fix the package.json: "scripts": { "start": "node server.js" }.',
    );
  }
  return pkg as PackageJson;
}

/**
 * The app's packages, first match wins: `packages` in the config; npm workspaces of the root;
 * direct subfolders and services/*, packages/*, apps/* with a package.json; the root itself.
 */
export function discoverPackages(
  root: string,
  configured: Record<string, PackageConfig> | undefined,
  configFile: string,
): AppPackage[] {
  const found = configured
    ? Object.entries(configured).map(([name, cfg]) => ({ name, path: cfg.path ?? name, cfg }))
    : discoverFolders(root).map((path) => ({ name: folderName(root, path), path, cfg: {} as PackageConfig }));

  const packages = found.map(({ name, path, cfg }) => {
    const dir = resolve(root, path);
    const pkg = readPackageJson(dir);
    if (!pkg) {
      throw configError(
        `${configFile}: packages.${name}.path: no package.json in "${path}"`,
        `Point packages.${name}.path at a folder holding a package.json.`,
      );
    }
    return toAppPackage(root, name, dir, pkg, cfg);
  });
  inferDependsOn(packages);
  verifyDependsOn(packages, configFile);
  orderPackages(packages, configFile); // a cycle is a config error for every command (README, "Config")
  return packages;
}

function discoverFolders(root: string): string[] {
  const rootPkg = readPackageJson(root);
  const workspaces = Array.isArray(rootPkg?.workspaces) ? rootPkg.workspaces : rootPkg?.workspaces?.packages;
  if (workspaces?.length) {
    const dirs = expandWorkspaces(root, workspaces);
    if (dirs.length) return dirs;
  }
  const dirs: string[] = [];
  for (const entry of subfolders(root)) {
    if (NESTED_FOLDERS.includes(entry)) {
      for (const inner of subfolders(join(root, entry))) {
        if (existsSync(join(root, entry, inner, 'package.json'))) dirs.push(`${entry}/${inner}`);
      }
    } else if (existsSync(join(root, entry, 'package.json'))) {
      dirs.push(entry);
    }
  }
  if (dirs.length) return dirs;
  if (rootPkg?.scripts && Object.keys(rootPkg.scripts).length) return ['.'];
  return [];
}

function subfolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !SKIPPED.has(d.name) && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
}

/**
 * A discovered package's name: its folder's; the root's is its package.json name (`@acme/shop` → `shop`, as a
 * package name is also a PM2 process and log file name), `app` when it has none.
 */
function folderName(root: string, path: string): string {
  if (path !== '.') return path.split('/').pop() ?? path;
  const name = readPackageJson(root)
    ?.name?.replace(/^@[^/]+\//, '')
    .replace(/[^a-zA-Z0-9._-]+/g, '-');
  return name || 'app';
}

function toAppPackage(root: string, name: string, dir: string, pkg: PackageJson, cfg: PackageConfig): AppPackage {
  return {
    name,
    dir,
    path: relative(root, dir) || '.',
    scripts: pkg.scripts ?? {},
    dependencies: pkg.dependencies ?? {},
    devDependencies: pkg.devDependencies ?? {},
    engines: pkg.engines,
    main: pkg.main,
    port: cfg.port,
    health: cfg.health,
    debugPort: cfg.debugPort,
    instances: cfg.instances,
    dependsOn: cfg.dependsOn ?? [],
    env: cfg.env ?? {},
    ...(cfg.requiredEnv ? { requiredEnv: cfg.requiredEnv } : {}),
    outputs: cfg.outputs ?? DEFAULT_OUTPUTS,
    ...(cfg.smoke ? { smoke: cfg.smoke.map((s) => (typeof s === 'string' ? { path: s } : s)) } : {}),
    ...(cfg.stabilityWindow !== undefined ? { stabilityWindow: cfg.stabilityWindow } : {}),
  };
}

/** Packages without an explicit `dependsOn` depend on siblings they reference by `file:` or by workspace name. */
function inferDependsOn(packages: AppPackage[]): void {
  const byDir = new Map(packages.map((p) => [p.dir, p.name]));
  const byNpmName = new Map<string, string>();
  for (const p of packages) {
    const npmName = readPackageJson(p.dir)?.name;
    if (npmName) byNpmName.set(npmName, p.name);
  }
  for (const p of packages) {
    if (p.dependsOn.length) continue;
    const inferred = new Set<string>();
    for (const [dep, spec] of Object.entries({ ...p.dependencies, ...p.devDependencies })) {
      if (spec.startsWith('file:')) {
        const target = byDir.get(resolve(p.dir, spec.slice(5)));
        if (target) inferred.add(target);
      } else if (spec.startsWith('workspace:') || byNpmName.has(dep)) {
        const target = byNpmName.get(dep);
        if (target && target !== p.name) inferred.add(target);
      }
    }
    p.dependsOn = [...inferred];
  }
}

function verifyDependsOn(packages: AppPackage[], configFile: string): void {
  const names = new Set(packages.map((p) => p.name));
  for (const p of packages) {
    for (const dep of p.dependsOn) {
      if (!names.has(dep)) {
        throw configError(
          `${configFile}: packages.${p.name}.dependsOn: unknown package "${dep}"`,
          `Known packages: ${[...names].join(', ')}.`,
        );
      }
    }
  }
}

/** Narrow to the packages named by `--package`; an unknown name is a usage error (exit 2). */
export function selectPackages(
  packages: AppPackage[],
  names: string[] | undefined,
  appPackages: AppPackage[] = packages,
): AppPackage[] {
  if (!names?.length) return packages;
  const unselected = names.filter((n) => !packages.some((p) => p.name === n) && appPackages.some((p) => p.name === n));
  if (unselected.length) {
    throw usageError(
      `${unselected.join(', ')} ${unselected.length > 1 ? 'are' : 'is'} not among the packages chosen with -p (${packages.map((p) => p.name).join(', ')}).`,
      'Add it to -p, or leave -p out.',
    );
  }
  const unknown = names.filter((n) => !packages.some((p) => p.name === n));
  if (unknown.length) {
    throw configError(
      `Unknown package${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}.`,
      packages.length
        ? `Known packages: ${packages.map((p) => p.name).join(', ')}.`
        : 'No packages were found in this app; check --cwd.',
    );
  }
  return packages.filter((p) => names.includes(p.name));
}
