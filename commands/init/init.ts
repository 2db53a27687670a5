import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CONFIG_FILES } from '../../src/config/load.js';
import { ExitCode, usageError } from '../../src/errors.js';
import { applyInit } from '../../src/init/apply.js';
import type { CiProvider } from '../../src/init/ci.js';
import { CONFIG_FILE, existingConfig, verifyNoConfig } from '../../src/init/config-file.js';
import { detectApp, detectedAnswers } from '../../src/init/detect.js';
import { extrasPlan, freshPlan, type InitRequest } from '../../src/init/plan.js';
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
    const request: InitRequest = {
      root: verifyRoot(cli.opts.cwd ?? '.'),
      force: Boolean(cli.opts.force),
      dryRun: Boolean(cli.opts.dryRun),
      scripts: Boolean(cli.opts.scripts),
      ...(cli.opts.ci ? { ci: cli.opts.ci as CiProvider } : {}),
      opsctlVersion: version(),
    };
    const { root } = request;
    // an app with a config (found, or named with --config): --ci and --scripts add only themselves, from it
    const given = cli.opts.config;
    if ((given || existingConfig(root, CONFIG_FILES)) && (request.ci || request.scripts)) {
      const result = applyInit(extrasPlan(request, cli.config()));
      if (cli.json) return cli.finish(ExitCode.ok, { root, dryRun: request.dryRun, ...result });
      out(describeResult(result));
      return ExitCode.ok;
    }
    if (given) {
      throw usageError(
        `opsctl init writes ${CONFIG_FILE}; --config names ${given}, which it does not write.`,
        'Leave --config out to write a config, or add --ci github|gitlab / --scripts to write only those from that one.',
      );
    }
    if (!request.force) verifyNoConfig(root, CONFIG_FILES);
    const detected = await detectApp(root);
    // under --json only when asked about (a question needs what it is about on the screen)
    if (!cli.json || (!cli.opts.yes && canPrompt())) err(describeFindings(detected));
    let answers = detectedAnswers(detected);
    if (!cli.opts.yes) {
      if (!canPrompt()) {
        throw usageError(
          'opsctl init needs you to confirm what it found, and there is no terminal to ask on.',
          'Pass --yes to take the detected values as they are (check them with `opsctl config show` after).',
        );
      }
      answers = await (await import('./ask.js')).confirmAnswers(detected, answers);
    }
    const result = applyInit(freshPlan(request, detected, answers, CONFIG_FILES));
    if (cli.json) return cli.finish(ExitCode.ok, { root, dryRun: request.dryRun, detected, ...result });
    out(describeResult(result));
    return ExitCode.ok;
  });
}

function verifyRoot(cwd: string): string {
  const root = resolve(cwd);
  if (existsSync(root) && !statSync(root).isDirectory()) {
    throw usageError(`"${cwd}" is a file, not the app folder.`, `Pass the folder that holds it: -C ${dirname(root)}`);
  }
  if (!existsSync(root)) {
    throw usageError(`The app folder "${cwd}" does not exist.`, 'Pass an existing folder with --cwd (-C).');
  }
  return root;
}
