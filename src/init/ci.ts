import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { OpsError } from '../errors.js';
import { shellWord } from './package-files.js';

/** The CI systems `init --ci` writes a pipeline for, and where each reads it (README, "Use in CI"). */
export const CI_PROVIDERS = {
  github: '.github/workflows/opsctl.yml',
  gitlab: '.gitlab-ci.yml',
} as const;

export type CiProvider = keyof typeof CI_PROVIDERS;

/** What the pipeline needs to know about the app. */
export interface CiApp {
  packages: Array<{ path: string; hasLockfile: boolean }>;
  nodeVersion: string;
  opsctlVersion: string;
  /** Where CI installs opsctl from, when the app depends on it itself (`opsctlSpecOf`); else opsctl@<version>. */
  opsctlPackage?: string;
  /** The app has migrations: the job with PostgreSQL runs them. */
  migrations: boolean;
  /** The config has `environments.production`: deploy runs with `--env production`. */
  production: boolean;
  /**
   * The variable the config's `database.url` names, when not DATABASE_URL: the app's own tool reads it (a knexfile's
   * `process.env.PG_URL`), so the migration job sets it to the service's URL too.
   */
  databaseVariable?: string;
  /** The config is not one opsctl finds by itself (`--config ops/opsctl.yaml`): every step names it. */
  configFile?: string;
}

/** The pipeline file's text, from templates/ci/<provider>.yml. */
export function renderCi(provider: CiProvider, app: CiApp): string {
  const install = app.packages.map((p) => {
    const npm = p.hasLockfile ? 'npm ci' : 'npm install';
    return p.path === '.' ? npm : `${npm} --prefix ${shellWord(p.path)}`;
  });
  const text = readFileSync(join(templatesDir(), `${provider}.yml`), 'utf8')
    // each line holding __INSTALL__ becomes one line per package, with the same indentation or list dash
    .replace(/^.*__INSTALL__.*$/gm, (line) => install.map((cmd) => line.replace('__INSTALL__', cmd)).join('\n'))
    .replaceAll('__NODE_VERSION__', app.nodeVersion)
    .replaceAll('__OPSCTL_PACKAGE__', JSON.stringify(app.opsctlPackage ?? `opsctl@${app.opsctlVersion}`))
    .replaceAll('__DEPLOY_ARGS__', app.production ? ' --env production' : '')
    // a step running opsctl (`run: opsctl …`, `- opsctl …`), not the one installing it
    .replace(/^(\s*(?:run: |- ))opsctl (?=\w)/gm, (_, head: string) =>
      app.configFile ? `${head}opsctl --config ${shellWord(app.configFile)} ` : `${head}opsctl `,
    );
  const extraVariable =
    app.databaseVariable && app.databaseVariable !== 'DATABASE_URL' ? app.databaseVariable : undefined;
  if (app.migrations && !extraVariable) return text;
  const doc = parseDocument(text);
  const job = provider === 'github' ? ['jobs', 'migrations'] : ['migrations'];
  const env = [...job, provider === 'github' ? 'env' : 'variables'];
  if (!app.migrations) {
    // no migrations: no job for them, and deploy waits for the checks alone
    doc.deleteIn(job);
    if (provider === 'github') doc.setIn(['jobs', 'deploy', 'needs'], doc.createNode(['checks'], { flow: true }));
  } else if (extraVariable) {
    doc.setIn([...env, extraVariable], doc.getIn([...env, 'DATABASE_URL']));
  }
  return doc.toString({ lineWidth: 0 });
}

/**
 * The app's own dependency on opsctl as something `npm install --global` takes on another machine: a registry range
 * (`opsctl@^1.2.0`) or a URL spec as written; a `file:`/`link:` path means nothing on a CI machine.
 */
export function opsctlSpecOf(packageJson: Record<string, unknown>): string | undefined {
  for (const field of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const deps = packageJson[field];
    const spec = deps && typeof deps === 'object' ? (deps as Record<string, unknown>).opsctl : undefined;
    if (typeof spec !== 'string' || /^(file|link|workspace):/.test(spec)) continue;
    return /^[~^<>=\d*]|^latest$/.test(spec) ? `opsctl@${spec}` : spec;
  }
  return undefined;
}

/** `opsctlSpecOf` the package.json at the app's root, when there is one. */
export function appOpsctlSpec(root: string): { opsctlPackage?: string } {
  try {
    const spec = opsctlSpecOf(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>);
    return spec ? { opsctlPackage: spec } : {};
  } catch {
    return {}; // no root package.json, or not JSON: the version of this opsctl
  }
}

/** templates/ci whether running from src/ (tests) or the bundle in dist/cli/. */
function templatesDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)), i = 0; i < 6; i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'templates', 'ci'))) return join(dir, 'templates', 'ci');
  }
  throw new OpsError('TEMPLATES_MISSING', 'The CI templates of opsctl are missing.', { hint: 'Reinstall opsctl.' });
}
