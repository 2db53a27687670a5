import { Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';

/** `opsctl init` (README, "`opsctl init`"). */
export function register(program: Program): void {
  const init = program
    .command('init')
    .description('write opsctl.config.yaml from what the app shows (packages, ports, health, migrations)')
    .option('--force', 'replace an existing config (and CI file)')
    .option('--scripts', 'add migrate, rollback and debug npm scripts to the package that holds the migrations')
    .addOption(new Option('--ci <provider>', 'also write a CI pipeline running opsctl').choices(['github', 'gitlab']))
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl init                 # shows what it found, asks to confirm or correct it',
          'opsctl init --yes --scripts # takes what it found; adds migrate/rollback/debug scripts',
          'opsctl init --ci github     # on an app with a config: writes only .github/workflows/opsctl.yml',
        ],
        [
          [ExitCode.ok, 'written'],
          [ExitCode.usage, 'a config or CI file exists (without --force), no answer possible without --yes, bad flag'],
          [ExitCode.failed, 'a file could not be written (read-only folder...): nothing written'],
          [ExitCode.interrupted, 'a prompt was cancelled (Ctrl-C): nothing written'],
        ],
      ),
    );
  lazyAction(init, async () => (await import('./init.js')).init);
}
