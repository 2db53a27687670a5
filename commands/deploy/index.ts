import { Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { positiveMilliseconds } from '../shared/parse-options.js';

const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

/** `opsctl deploy [packages...]` (README, "`opsctl deploy`"). */
export function register(program: Program): void {
  const deploy = program
    .command('deploy')
    .argument('[packages...]', 'deploy only these packages (default: all)')
    .description('install, build, migrate, start under PM2 and health-gate, in dependency order; rolls back on failure')
    .option('--skip-install', 'do not run npm ci / npm install')
    .option('--skip-build', 'do not run npm run build')
    .option('--skip-migrate', 'do not apply pending migrations')
    .option('--no-start', 'install and build only')
    .option('--force', 'ignore the install and build caches; reload even when nothing changed')
    .option('--foreground', 'run the packages as plain child processes with prefixed logs (development)')
    .option('--rollback', 'put back the release that went live before the current one (health-gated)')
    .option('--allow-dirty', 'under --env production, deploy uncommitted changes too (recorded as dirty)')
    .addOption(
      new Option(
        '--health-timeout <ms>',
        'how long a new release (its candidate, then each live instance) has to become healthy',
      )
        .default(DEFAULT_HEALTH_TIMEOUT_MS)
        .argParser(positiveMilliseconds),
    )
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl deploy                    # every package, in dependency order',
          'opsctl deploy backend --dry-run  # the plan: what would run, what would be skipped and why',
          'opsctl deploy --foreground       # development: plain child processes, Ctrl-C stops them all',
        ],
        [
          [ExitCode.ok, 'deployed, or nothing changed'],
          [
            ExitCode.usage,
            'usage or configuration error (unknown package, a dependency cycle, uncommitted changes under --env production)',
          ],
          [ExitCode.failed, 'install, build, migration, start or health gate failed (the previous release serves)'],
          [ExitCode.unreachable, 'the database is unreachable (migrate step)'],
          [ExitCode.locked, 'another deploy/start/stop/restart/scale of this app runs, or the migration lock is held'],
          [ExitCode.interrupted, 'interrupted (Ctrl-C): a candidate is deleted, a half-reloaded package put back'],
          [ExitCode.terminated, 'stopped by SIGTERM, cleaned up the same way (and --foreground stopped)'],
        ],
      ),
    );
  lazyAction(deploy, async () => (await import('./deploy.js')).deploy);
}
