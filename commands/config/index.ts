import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';

/** `opsctl config show|schema` (README, "`opsctl config show` / `opsctl config schema`"). */
export function register(program: Program): void {
  const config = program
    .command('config')
    .description('show the resolved config or its JSON Schema')
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl config show --env production',
          'opsctl config show --json',
          'opsctl config schema > opsctl.schema.json',
        ],
        [ExitCode.ok, [ExitCode.usage, 'usage or configuration error (the config is invalid)']],
      ),
    );
  const show = config
    .command('show')
    .description('print the resolved config (secrets redacted)')
    .addHelpText(
      'after',
      helpText(
        ['opsctl config show', 'opsctl config show --env production --json'],
        [ExitCode.ok, [ExitCode.usage, 'the config is invalid (file, key path and line are named)']],
      ),
    );
  lazyAction(show, async () => (await import('./show.js')).show);
  const schema = config
    .command('schema')
    .description('print the config JSON Schema')
    .addHelpText(
      'after',
      helpText(
        ['opsctl config schema > opsctl.schema.json', 'opsctl config schema | jq .properties.packages'],
        [ExitCode.ok],
      ),
    );
  lazyAction(schema, async () => (await import('./schema.js')).schema);
}
