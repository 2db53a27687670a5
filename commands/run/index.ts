import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';

/** `opsctl run <pipeline>` and `run --list` (README, "Pipelines"). */
export function register(program: Program): void {
  const run = program
    .command('run')
    .description('run a pipeline of the config: its steps in order, as one task list')
    .argument('[pipeline]', 'the pipeline to run (see --list)')
    .option('--list', 'list the pipelines of the config and their steps')
    .option('--continue-on-error', 'run every step even after one fails; exit with the worst code')
    .addHelpText(
      'after',
      helpText(
        ['opsctl run release', 'opsctl run ci --continue-on-error --json', 'opsctl run --list'],
        [
          [ExitCode.ok, 'every step succeeded'],
          [ExitCode.findings, 'a step had findings (its own exit code; with --continue-on-error, the worst)'],
          [ExitCode.usage, 'unknown pipeline, a step naming an unknown command, flag, package or script'],
          [ExitCode.failed, 'a step failed (its code: 3 for an npm script; 4 and 5 pass through too)'],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(run, async () => (await import('./run.js')).run);
}
