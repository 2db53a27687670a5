import { Argument } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { SHELLS } from './scripts.js';

/** `opsctl completion bash|zsh|fish` (README, "Shell completion"). */
export function register(program: Program): void {
  const completion = program
    .command('completion')
    .description('print the shell completion script for bash, zsh or fish')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl completion bash > ~/.local/share/bash-completion/completions/opsctl',
          'opsctl completion zsh > "${fpath[1]}/_opsctl"',
          'opsctl completion fish > ~/.config/fish/completions/opsctl.fish',
        ],
        [ExitCode.ok, [ExitCode.usage, 'no shell, or one opsctl has no script for']],
      ),
    );
  lazyAction(completion, async () => (await import('./completion.js')).completion);
}
