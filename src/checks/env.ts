import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { packageEnv } from '../app/env.js';
import type { ResolvedConfig } from '../config/types.js';
import type { AppPackage } from '../packages/types.js';
import { createPm2 } from '../pm2/cli.js';
import { isDaemonRunning, pm2Home } from '../pm2/home.js';
import type { Runner } from '../process/runner.js';
import type { Check, CheckResult } from './types.js';

/** A variable a package needs, and what says so (its `.env.example`, or `requiredEnv` in the config). */
export interface RequiredVar {
  name: string;
  source: string;
}

interface Problem {
  pkg: string;
  name: string;
  /** `not set`, `empty (…)`, `not set in the running process (…)`. */
  what: string;
  source: string;
}

const EMPTY = 'empty (an empty value counts as unset)';
const NOT_RUNNING_WITH = 'not set in the running process (started before it was set)';

/**
 * What a package needs in its environment: every key of its `.env.example` (the dotenv-safe convention, read with
 * dotenv's own parser; the example's values are ignored) and its `requiredEnv`, in that order, each once.
 */
export function readRequiredEnv(root: string, pkg: AppPackage): RequiredVar[] {
  const vars = new Map<string, string>();
  const example = join(pkg.dir, '.env.example');
  if (existsSync(example)) {
    const label = relative(root, example) || '.env.example';
    for (const name of Object.keys(parseDotenv(readFileSync(example)))) vars.set(name, label);
  }
  for (const name of pkg.requiredEnv ?? []) if (!vars.has(name)) vars.set(name, 'requiredEnv');
  return [...vars].map(([name, source]) => ({ name, source }));
}

/**
 * `env`: every variable a package needs is set, and not empty, in the environment opsctl gives its process (the app's
 * `.env`, the real environment, the package's `env` of the config: README, "Config"); when the package runs under
 * PM2, in the environment PM2 holds for it too, since a running process keeps the one it was started with. Only
 * names are ever reported, never values.
 */
export const envCheck: Check = {
  id: 'env',
  async run({ config, runner }): Promise<CheckResult> {
    const wanted = config.packages
      .map((pkg) => ({ pkg, vars: readRequiredEnv(config.root, pkg) }))
      .filter((w) => w.vars.length);
    if (!wanted.length) {
      return {
        status: 'skip',
        message: 'no package has a .env.example or requiredEnv in the config',
        hint: 'List the variables a package needs in its .env.example (names, no real values) or in packages.<name>.requiredEnv.',
      };
    }
    const running = await readRunningEnv(
      config,
      runner,
      wanted.map((w) => w.pkg.name),
    );
    const problems: Problem[] = [];
    for (const { pkg, vars } of wanted) {
      const env = packageEnv(config, pkg);
      const live = running.get(pkg.name);
      for (const v of vars) {
        const what = problemWith(env[v.name], live?.[v.name], live !== undefined);
        if (what) problems.push({ pkg: pkg.name, name: v.name, what, source: v.source });
      }
    }
    if (problems.length) return failure(problems);
    return {
      status: 'pass',
      message: wanted
        .map(({ pkg, vars }) => {
          const n = vars.length;
          const where = running.has(pkg.name) ? ', and in its running process' : '';
          return `${pkg.name}: ${n} required variable${n > 1 ? 's' : ''} set (${vars.map((v) => v.name).join(', ')})${where}`;
        })
        .join('; '),
    };
  },
};

/** What is wrong with one variable: its value for a new process, and in the running one when it runs. */
function problemWith(value: string | undefined, liveValue: string | undefined, running: boolean): string | undefined {
  if (value === undefined) return 'not set';
  if (value === '') return EMPTY;
  if (running && !liveValue) return NOT_RUNNING_WITH;
  return undefined;
}

function failure(problems: Problem[]): CheckResult {
  const groups = new Map<string, { pkg: string; what: string; names: string[] }>();
  for (const p of problems) {
    const key = JSON.stringify([p.pkg, p.what]);
    const group = groups.get(key) ?? { pkg: p.pkg, what: p.what, names: [] };
    group.names.push(p.name);
    groups.set(key, group);
  }
  const message = [...groups.values()].map((g) => `${g.pkg}: ${g.names.join(', ')} ${g.what}`).join('; ');
  const onlyRunning = problems.every((p) => p.what === NOT_RUNNING_WITH);
  const pkgs = [...new Set(problems.map((p) => p.pkg))].join(' ');
  return {
    status: 'fail',
    message,
    hint: onlyRunning
      ? `\`opsctl restart ${pkgs}\` starts it with the current environment.`
      : `Set ${problems.length > 1 ? 'them' : 'it'} in the app's .env (or the real environment, or packages.<name>.env in the config), then \`opsctl restart ${pkgs}\` if it runs.`,
    details: problems.map((p) => `${p.pkg}: ${p.name} ${p.what} (required by ${p.source})`),
  };
}

/**
 * The environment PM2 holds for each package that has an online instance (`pm2 jlist`: what the process was started
 * with, kept in memory here and never printed). Empty without a daemon.
 */
async function readRunningEnv(
  config: ResolvedConfig,
  runner: Runner,
  names: string[],
): Promise<Map<string, Record<string, string>>> {
  const found = new Map<string, Record<string, string>>();
  const home = pm2Home(config.root, config.env);
  if (!isDaemonRunning(home)) return found;
  const snapshot = await createPm2(runner, home, config.root).snapshot();
  for (const name of names) {
    if (!snapshot.instances.some((p) => p.name === name && p.state === 'online')) continue;
    const env = snapshot.envOf(name);
    if (env) found.set(name, env);
  }
  return found;
}
