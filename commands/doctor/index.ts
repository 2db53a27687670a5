import { Option } from '@commander-js/extra-typings';
import { CHECK_IDS, DEFAULT_CHECK_TIMEOUT_MS } from '../../src/checks/ids.js';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { duration, positiveInt } from '../shared/parse-options.js';
import { TARGET_HELP, targetable } from '../shared/target.js';

/** `opsctl doctor` (alias `troubleshoot`): the on-call checks (README, "`opsctl doctor`"). */
export function register(program: Program): void {
  const doctor = program
    .command('doctor')
    .alias('troubleshoot')
    .description(
      'run the on-call checks: config, node, dependencies, env, ports, postgres, migrations, encryption, redis, logs, inspector, processes',
    )
    .addOption(
      new Option(
        '--timeout <ms>',
        `time limit per check (default: ${DEFAULT_CHECK_TIMEOUT_MS}, or doctor.timeout in the config)`,
      ).argParser(positiveInt),
    )
    // variadic is safe here: doctor takes no positional argument a list could swallow
    .option('--only <ids...>', 'run only these checks (port selects every port:<pkg>)')
    .option('--skip <ids...>', 'skip these checks')
    .option('--target <name>', `${TARGET_HELP}: the host-side checks on each host`)
    .addOption(
      new Option(
        '--since <duration>',
        'logs: only entries this recent (30m, 24h, 2d; default: the current release)',
      ).argParser(duration),
    )
    .addHelpText(
      'after',
      `\nChecks, in report order (port stands for every port:<package>):\n  ${CHECK_IDS.join(', ')}`,
    )
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl doctor',
          'opsctl doctor --only postgres redis --timeout 1000 --json',
          'opsctl -C /srv/shop troubleshoot --only logs --since 2h',
        ],
        [
          [ExitCode.ok, 'every check passed (warnings do not fail)'],
          [ExitCode.findings, 'a check failed'],
          [ExitCode.usage, 'usage or configuration error (an unknown check id, a bad config)'],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(doctor, async () =>
    targetable((await import('./doctor.js')).doctor, (o) => [
      'doctor',
      ...(o.only?.length ? ['--only', ...o.only] : []),
      ...(o.skip?.length ? ['--skip', ...o.skip] : []),
      ...(o.timeout ? ['--timeout', String(o.timeout)] : []),
      ...(o.since ? ['--since', `${Math.ceil(o.since / 1000)}s`] : []),
    ]),
  );
}
