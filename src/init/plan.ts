import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config/types.js';
import { type InitPlan, verifyScriptsPackage } from './apply.js';
import { appOpsctlSpec, type CiProvider } from './ci.js';
import { renderConfig } from './config-file.js';
import { discoverForInit, ownerOf } from './detect.js';
import { ciAppFromConfig, migrationsPackageOf, toolOf } from './from-config.js';
import { installTargets } from './package-files.js';
import type { DetectedApp, InitAnswers } from './types.js';

/** What the user asked `init` for (README, "`opsctl init`"). */
export interface InitRequest {
  root: string;
  force: boolean;
  dryRun: boolean;
  scripts: boolean;
  ci?: CiProvider;
  opsctlVersion: string;
}

/** A fresh config from the answers, and the extras asked for; `configNames` are the files a config may be in. */
export function freshPlan(
  request: InitRequest,
  app: DetectedApp,
  answers: InitAnswers,
  configNames: string[],
): InitPlan {
  const { root, force, dryRun, scripts, ci } = request;
  const owner = answers.migrations ? ownerOf(answers.migrations, answers.packages) : app.tool?.package;
  return {
    root,
    config: renderConfig(answers),
    replaces: configNames.filter((f) => existsSync(join(root, f))),
    force,
    dryRun,
    ...(scripts ? { scriptsPackage: verifyScriptsPackage(discoverForInit(root), owner) } : {}),
    ...(answers.tool ? { tool: answers.tool } : {}),
    ...(ci
      ? {
          ci: {
            provider: ci,
            app: {
              packages: installTargets(root, app.packages),
              nodeVersion: app.nodeVersion,
              opsctlVersion: request.opsctlVersion,
              ...appOpsctlSpec(root),
              migrations: Boolean(answers.migrations || answers.tool),
              production: false,
              ...(answers.databaseVariable ? { databaseVariable: answers.databaseVariable } : {}),
            },
          },
        }
      : {}),
  };
}

/** Only the extras (`--ci`, `--scripts`), from the config the app has. */
export function extrasPlan(request: InitRequest, config: ResolvedConfig): InitPlan {
  const { root, force, dryRun, scripts, ci } = request;
  const packages = config.appPackages ?? config.packages;
  return {
    root,
    replaces: [],
    force,
    dryRun,
    ...(scripts ? { scriptsPackage: verifyScriptsPackage(packages, migrationsPackageOf(config)) } : {}),
    ...toolOf(config),
    ...(ci ? { ci: { provider: ci, app: ciAppFromConfig(config, request.opsctlVersion) } } : {}),
  };
}
