import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';

/** `opsctl db start|stop|status|url`: a local PostgreSQL for development (README, "`opsctl db start|stop|status|url`"). */
export function register(program: Program): void {
  const db = program
    .command('db')
    .description('a local PostgreSQL for development, kept under .opsctl/pg; seed data')
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl db start && opsctl db status',
          'export DATABASE_URL=$(opsctl db url --show-password)',
          'opsctl db stop',
        ],
        [
          [ExitCode.ok, 'success; also starting a running or stopping a stopped database'],
          [
            ExitCode.usage,
            'usage or configuration error (db start|stop|status|url are refused under --env production)',
          ],
          [ExitCode.failed, 'the embedded PostgreSQL would not start or stop; `db url` without any database'],
          [ExitCode.locked, 'another `db start` or `db stop` held .opsctl/pg/start.lock for 3 minutes'],
          ExitCode.interrupted,
        ],
      ),
    );
  const start = db
    .command('start')
    .description('initialise (first time) and start the embedded PostgreSQL')
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl db start                     # prints the URL (password redacted) on stdout',
          'opsctl db start --json',
        ],
        [
          [ExitCode.ok, 'running (also when it already was)'],
          [ExitCode.usage, 'refused under --env production, or a bad config'],
          [ExitCode.failed, 'initdb or the server failed to start (its log lines are shown)'],
          [ExitCode.locked, 'another `db start` or `db stop` held .opsctl/pg/start.lock for 3 minutes'],
        ],
      ),
    );
  lazyAction(start, async () => (await import('./start.js')).start);
  const stop = db
    .command('stop')
    .description('stop the embedded PostgreSQL')
    .addHelpText(
      'after',
      helpText(
        ['opsctl db stop', 'opsctl -C /srv/shop db stop --json'],
        [
          [ExitCode.ok, 'stopped (also when it was not running)'],
          ExitCode.usage,
          [ExitCode.failed, 'the server would not stop'],
          ExitCode.locked,
        ],
      ),
    );
  lazyAction(stop, async () => (await import('./stop.js')).stop);
  const status = db
    .command('status')
    .description('is the embedded PostgreSQL running, and where')
    .addHelpText(
      'after',
      helpText(
        ['opsctl db status', 'opsctl db status --json'],
        [[ExitCode.ok, 'running or not: the answer is the output'], ExitCode.usage],
      ),
    );
  lazyAction(status, async () => (await import('./status.js')).status);
  const seed = db
    .command('seed')
    .description('run the seeds/ files (SQL or JS/TS) in name order, each in its own transaction')
    .option('--only <name>', 'run only this seed (its file name, with or without the extension)')
    .addHelpText(
      'after',
      helpText(
        ['opsctl db seed', 'opsctl db seed --only 002_demo_orders', 'opsctl db seed --dry-run --json'],
        [
          [ExitCode.ok, 'every seed ran (or there were none)'],
          [ExitCode.usage, 'no seeds folder, an unknown --only, or the app tool has no seeds'],
          [ExitCode.failed, 'a seed failed: it was rolled back, the seeds before it stay committed'],
          [ExitCode.unreachable, 'the database is unreachable or refused the login'],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(seed, async () => (await import('./seed.js')).seed);
  const url = db
    .command('url')
    .description('print the database URL opsctl uses (password redacted unless --show-password)')
    .option('--show-password', 'print the password too (for scripts; never logged)')
    .addHelpText(
      'after',
      helpText(
        ['opsctl db url', 'export DATABASE_URL=$(opsctl db url --show-password)'],
        [ExitCode.ok, ExitCode.usage, [ExitCode.failed, 'no database configured and the embedded one never started']],
      ),
    );
  lazyAction(url, async () => (await import('./url.js')).url);
}
