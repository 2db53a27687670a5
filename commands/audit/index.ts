import { Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';

/** `opsctl audit` (README, "`opsctl audit`"). */
export function register(program: Program): void {
  const audit = program
    .command('audit')
    .description('npm advisories, Snyk and a code audit of the app in one report, with a fail level and ignores')
    .addOption(
      new Option(
        '--level <severity>',
        'fail on unignored findings at or above this (default: audit.level, else high)',
      ).choices(['low', 'moderate', 'high', 'critical'] as const),
    )
    .option('--snyk', 'require Snyk (exit 4 when it is missing, not authenticated or unreachable)')
    .option('--no-snyk', 'leave Snyk out')
    .option('--no-code', "leave out the code audit of the app's own sources")
    .addOption(
      new Option('--omit <type>', 'leave out dev dependencies, as npm audit --omit dev').choices(['dev'] as const),
    )
    .option('--sarif <file>', 'also write the findings as SARIF 2.1.0 (for code-scanning upload)')
    .addHelpText(
      'after',
      helpText(
        ['opsctl audit', 'opsctl audit --level critical --no-snyk', 'opsctl audit --json --sarif audit.sarif'],
        [
          [ExitCode.ok, 'nothing unignored at or above the fail level'],
          [ExitCode.findings, 'unignored findings at or above the fail level, or an expired audit.ignore entry'],
          [ExitCode.usage, 'usage or configuration error'],
          [ExitCode.failed, 'npm or Snyk failed on a package itself (a corrupt lockfile)'],
          [ExitCode.unreachable, "the registry's audit endpoint, or Snyk under --snyk, unreachable or refused us"],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(audit, async () => (await import('./audit.js')).audit);
}
