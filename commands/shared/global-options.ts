import { Command, Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import { helpText } from './help.js';
import { nameList, positiveInt } from './parse-options.js';
import { version } from './version.js';

/** The root command with the global options (README, "Commands"); each family registers its commands on it. */
export function createProgram() {
  return new Command('opsctl')
    .description('Run a Node.js app made of several npm packages: doctor, database, deploy, migrate.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      helpText(
        ['opsctl doctor', 'opsctl deploy --json', 'opsctl run release --env production'],
        [
          ExitCode.ok,
          ExitCode.findings,
          ExitCode.usage,
          ExitCode.failed,
          ExitCode.unreachable,
          ExitCode.locked,
          ExitCode.hangup,
          ExitCode.interrupted,
          ExitCode.terminated,
        ],
      ),
    )
    .option('-C, --cwd <dir>', 'app root (default: current folder)')
    .option('-c, --config <file>', 'config file (default: opsctl.config.{json,yaml,yml})')
    .option('--env <name>', 'environment overlay from environments.<name> (or OPSCTL_ENV)')
    .option('--json', 'print exactly one JSON document on stdout')
    .addOption(
      new Option('-p, --package <name>', 'restrict to this package (repeat -p, or a comma list)').argParser(nameList),
    )
    .addOption(new Option('--concurrency <n>', 'how many packages at once').argParser(positiveInt))
    .option('-y, --yes', 'answer yes to confirmations')
    .option('--dry-run', 'show what would change without changing it (where it applies)')
    .option('--debug', 'show stack traces and echo child commands')
    .option('--no-color', 'disable colours (also NO_COLOR)');
}

export type Program = ReturnType<typeof createProgram>;
