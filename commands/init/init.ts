import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { CONFIG_FILES } from '../../src/config/load.js';
import { ExitCode, usageError } from '../../src/errors.js';
import { applyInit, type InitPlan, type InitResult, verifyScriptsPackage } from '../../src/init/apply.js';
import type { CiProvider } from '../../src/init/ci.js';
import { existingConfig, renderConfig, verifyNoConfig } from '../../src/init/config-file.js';
import { detectApp, detectedAnswers, ownerOf } from '../../src/init/detect.js';
import { ciAppFromConfig, migrationsPackageOf } from '../../src/init/from-config.js';
import { discoverPackages } from '../../src/packages/discover.js';
import { canPrompt, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out } from '../shared/output.js';
import { version } from '../shared/version.js';
import { describeFindings, describeResult } from './describe.js';

export interface InitOptions extends GlobalOptions {
  force?: boolean;
  scripts?: boolean;
  ci?: string;
}

/** `opsctl init`: detect, show, confirm (or `--yes`), write (README, "`opsctl init`"). */
export function init(cmd: Invocation<InitOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const { force = false, scripts = false, dryRun = false } = cli.opts;
    const ci = cli.opts.ci as CiProvider | undefined;
    const root = verifyRoot(cli.opts.cwd ?? '.');
    const existing = existingConfig(root, CONFIG_FILES);
    let plan: InitPlan;
    let detected: Awaited<ReturnType<typeof detectApp>> | undefined;
    if (existing && (ci || scripts)) {
      // the app has a config: only the extras asked for, from that config (--force then replaces the CI file)
      const config = cli.config();
      const packages = config.appPackages ?? config.packages;
      plan = {
        root,
        replaces: [],
        force,
        dryRun,
        ...(scripts ? { scriptsPackage: verifyScriptsPackage(packages, migrationsPackageOf(config)) } : {}),
        ...(ci ? { ci: { provider: ci, app: ciAppFromConfig(config, version()) } } : {}),
      };
    } else {
      if (!force) verifyNoConfig(root, CONFIG_FILES);
      detected = await detectApp(root);
      if (!cli.json) err(describeFindings(detected));
      let answers = detectedAnswers(detected);
      if (!cli.opts.yes) {
        if (!canPrompt()) {
          throw usageError(
            'opsctl init needs you to confirm what it found, and there is no terminal to ask on.',
            'Pass --yes to take the detected values as they are (check them with `opsctl config show` after).',
          );
        }
        const { confirmAnswers } = await import('./ask.js');
        answers = await confirmAnswers(detected, answers);
      }
      const packages = scripts ? discoverPackages(root, undefined, 'opsctl.config.yaml') : [];
      const owner = answers.migrations ? ownerOf(answers.migrations, answers.packages) : detected.tool?.package;
      plan = {
        root,
        config: renderConfig(answers),
        replaces: CONFIG_FILES.filter((f) => existsSync(resolve(root, f))),
        force,
        dryRun,
        ...(scripts ? { scriptsPackage: verifyScriptsPackage(packages, owner) } : {}),
        ...(ci
          ? {
              ci: {
                provider: ci,
                app: {
                  packages: detected.packages,
                  nodeVersion: detected.nodeVersion,
                  opsctlVersion: version(),
                  migrations: Boolean(answers.migrations || answers.tool),
                  production: false,
                },
              },
            }
          : {}),
      };
    }
    const result: InitResult = applyInit(plan);
    if (cli.json) return cli.finish(ExitCode.ok, { root, dryRun, ...(detected ? { detected } : {}), ...result });
    out(describeResult(result));
    return ExitCode.ok;
  });
}

function verifyRoot(cwd: string): string {
  const root = resolve(cwd);
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw usageError(`The app folder "${cwd}" does not exist.`, 'Pass an existing folder with --cwd (-C).');
  }
  return root;
}
