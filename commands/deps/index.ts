import { Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { positiveInt } from '../shared/parse-options.js';

const registryTimeout = () =>
  new Option('--timeout <ms>', 'time limit per registry request (default 30000)').argParser(positiveInt);

/** `opsctl outdated` and `opsctl update` (README, "`opsctl outdated` and `opsctl update`"). */
export function register(program: Program): void {
  const outdated = program
    .command('outdated [packages...]')
    .description('outdated dependencies of every package in one table (npm outdated, all at once)')
    .addOption(
      new Option('--fail-on <level>', 'exit 1 when something at or above this bump is outdated').choices([
        'major',
        'minor',
        'patch',
        'any',
      ] as const),
    )
    .addOption(registryTimeout())
    .addHelpText(
      'after',
      helpText(
        ['opsctl outdated', 'opsctl outdated backend --fail-on major', 'opsctl outdated -p backend,frontend --json'],
        [
          [ExitCode.ok, 'nothing outdated at or above --fail-on (or no --fail-on)'],
          [ExitCode.findings, 'something outdated at or above --fail-on'],
          [ExitCode.usage, 'usage or configuration error (unknown package)'],
          [ExitCode.unreachable, 'the registry is unreachable, timed out or rejected the login'],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(outdated, async () => (await import('./outdated.js')).outdated);

  const update = program
    .command('update [dependencies...]')
    .description('npm update within the declared ranges (all or the named dependencies), optionally guarded by tests')
    .option('--latest', 'move to the latest version across majors (updates the range in package.json)')
    .option('--test', "run the package's test script afterwards; restore everything when it fails (exit 3)")
    .addOption(registryTimeout())
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl update -p backend pg       # pg in backend, within its range',
          'opsctl update --latest --dry-run  # what moving every dependency across majors would change',
          'opsctl update --test -p backend   # restore everything if the tests fail',
        ],
        [
          [ExitCode.ok, 'updated, or already up to date'],
          [ExitCode.usage, 'usage error: an undeclared dependency, no lockfile, --test without a test script'],
          [ExitCode.failed, 'npm or the test script failed (everything was restored)'],
          [ExitCode.unreachable, 'the registry is unreachable, timed out or rejected the login'],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(update, async () => (await import('./update.js')).update);
}
