import { type Command, Option, type OptionValues } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { defaultSubcommandHelp, type ExitCodeList, helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { milliseconds, positiveInt } from '../shared/parse-options.js';

const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

const lockTimeout = () =>
  new Option('--lock-timeout <ms>', 'longest wait for locks (the migration lock, then the tables it uses), then exit 5')
    .default(DEFAULT_LOCK_TIMEOUT_MS)
    .argParser(milliseconds);

const EXIT_CODES: ExitCodeList = [
  [ExitCode.ok, 'success, or nothing to migrate or roll back'],
  [ExitCode.findings, 'drifted or missing migrations (migrate refuses), or anything pending under status --exit-code'],
  [
    ExitCode.usage,
    'usage or configuration error (no migrations folder, duplicate versions, rollback without --yes, a bad database URL)',
  ],
  [ExitCode.failed, 'a migration failed (its transaction was rolled back), or has no down part to roll back'],
  [ExitCode.unreachable, 'the database is unreachable or refused the login'],
  [ExitCode.locked, 'a lock (the migration lock, or a table) was held by another session past --lock-timeout'],
  [ExitCode.interrupted, 'interrupted, or rollback declined at the prompt'],
];

/** `migrate [up|status|create|down]` and `rollback` (README, "`opsctl migrate`, `migrate status`, ..."). */
export function register(program: Program): void {
  const migrate = program
    .command('migrate')
    .description('database migrations (umzug over PostgreSQL): up, status, create, down, redo, mark, unlock')
    .addHelpText('after', ({ command }) => defaultSubcommandHelp(command, 'up'))
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl migrate                      # apply everything pending (also: opsctl migrate up)',
          'opsctl migrate --dry-run            # run them in a transaction that is rolled back',
          'opsctl migrate status --exit-code   # exit 1 when anything is pending, drifted or missing',
        ],
        EXIT_CODES,
      ),
    );

  const up = migrate
    .command('up', { isDefault: true })
    .description('apply pending migrations, each in its own transaction, under an advisory lock')
    .option('--to <name>', 'apply up to and including this migration')
    .addOption(new Option('--step <n>', 'apply the next n pending migrations').argParser(positiveInt))
    .option('--allow-drift', 'run even though applied migrations changed or disappeared')
    .addOption(lockTimeout())
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl migrate up --to 0004_add_invoices',
          'opsctl migrate up --step 1 --dry-run',
          'opsctl migrate up --json',
        ],
        EXIT_CODES,
      ),
    );
  lazyAction(up, async () => (await import('./up.js')).up);

  const status = migrate
    .command('status')
    .description('executed, pending, drifted and missing migrations')
    .option('--exit-code', 'exit 1 when anything is pending, drifted or missing')
    .addHelpText(
      'after',
      helpText(
        ['opsctl migrate status', 'opsctl migrate status --exit-code --json   # a CI gate'],
        [
          ExitCode.ok,
          [ExitCode.findings, 'with --exit-code: anything pending, drifted or missing'],
          [ExitCode.usage, 'usage or configuration error (no migrations folder, a bad database URL)'],
          [ExitCode.unreachable, 'the database is unreachable or refused the login'],
          [ExitCode.locked, 'a table lock held by another session past the session bound'],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(status, async () => (await import('./status.js')).status);

  const create = migrate
    .command('create')
    .argument('<name>', 'what the migration does, e.g. add_order_status (letters and digits, at most 100)')
    .description("write a new migration from templates/, numbered in the folder's style")
    .option('--sql', 'a .sql file with -- up / -- down sections (default, or the style of the newest migration)')
    .option('--js', 'a JavaScript module exporting up and down')
    .option('--ts', 'a TypeScript module exporting up and down')
    .addHelpText(
      'after',
      helpText(
        ['opsctl migrate create add_order_status', 'opsctl migrate create backfill_totals --js'],
        [ExitCode.ok, [ExitCode.usage, 'a bad name, or no migrations folder'], ExitCode.interrupted],
      ),
    );
  lazyAction(create, async () => (await import('./create.js')).create);

  const redo = migrate
    .command('redo')
    .description('revert the last applied migration and apply it again, under one hold of the migration lock')
    .addOption(lockTimeout())
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl migrate redo --yes           # names the migration and the database it changes',
          'opsctl migrate redo --dry-run       # in a transaction that is rolled back',
          'opsctl migrate redo --yes --json',
        ],
        [
          [ExitCode.ok, 'redone, or nothing applied to redo'],
          [ExitCode.usage, 'no --yes without a terminal, a bad config, or the app tool has no redo'],
          [ExitCode.failed, 'the migration has no down part (nothing changed), its file is gone, or a step failed'],
          [ExitCode.unreachable, 'the database is unreachable or refused the login'],
          [ExitCode.locked, 'another runner held the migration lock past --lock-timeout'],
          [ExitCode.interrupted, 'interrupted, or declined at the prompt (nothing changed)'],
        ],
      ),
    );
  lazyAction(redo, async () => (await import('./redo.js')).redo);

  const mark = migrate
    .command('mark')
    .argument('<name>', 'the migration, as `migrate status` names it')
    .description('record a migration as applied or pending without running it (a change made by hand)')
    .option('--applied', "record it as applied (its state row, with the file's checksum)")
    .option('--pending', 'record it as pending (delete its state row)')
    .addOption(lockTimeout())
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl migrate mark 0003_add_order_status --applied --yes',
          'opsctl migrate mark 0003_add_order_status --pending --yes --json',
        ],
        [
          [ExitCode.ok, 'marked, or already in that state (nothing changed)'],
          [
            ExitCode.usage,
            'an unknown name (near names listed), neither or both of --applied/--pending, no --yes without a terminal, or the app tool cannot mark',
          ],
          [ExitCode.failed, 'the app tool ran and the state did not change'],
          [ExitCode.unreachable, 'the database is unreachable or refused the login'],
          [ExitCode.locked, 'another runner held the migration lock past --lock-timeout'],
          [ExitCode.interrupted, 'interrupted, or declined at the prompt (nothing changed)'],
        ],
      ),
    );
  lazyAction(mark, async () => (await import('./mark.js')).mark);

  const unlock = migrate
    .command('unlock')
    .description('release a migration lock whose holder is gone (naming it); refuses while the holder runs')
    .option('--force', 'also end an idle opsctl session whose runner is on another host (check that host first)')
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl migrate unlock               # names the holder; ends its session only if its runner is gone',
          'opsctl migrate unlock --yes --json',
        ],
        [
          [ExitCode.ok, 'released, or no lock held'],
          [ExitCode.usage, 'no --yes without a terminal, or a bad config'],
          [ExitCode.failed, "the session could not be ended (permissions), or the tool's unlock failed"],
          [ExitCode.unreachable, 'the database is unreachable or refused the login'],
          [
            ExitCode.locked,
            "the holder is alive, running a statement, not opsctl's, or on another host (without --force)",
          ],
          [ExitCode.interrupted, 'interrupted, or declined at the prompt (nothing changed)'],
        ],
      ),
    );
  lazyAction(unlock, async () => (await import('./unlock.js')).unlock);

  const down = migrate
    .command('down')
    .description('same as `opsctl rollback`')
    .addHelpText(
      'after',
      helpText(['opsctl migrate down --yes', 'opsctl migrate down --step 2 --dry-run'], EXIT_CODES),
    );
  lazyAction(rollbackOptions(down), async () => (await import('./rollback.js')).rollback);

  const rollback = program
    .command('rollback')
    .description('revert applied migrations (default: the last one); asks first, --yes in CI')
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl rollback --yes               # the last one',
          'opsctl rollback --step 2 --dry-run  # what reverting the last two would do',
          'opsctl rollback --to 0003_add_order_status --yes',
        ],
        EXIT_CODES,
      ),
    );
  lazyAction(rollbackOptions(rollback), async () => (await import('./rollback.js')).rollback);
}

/** The options `rollback` and `migrate down` share. */
function rollbackOptions<Options extends OptionValues, Globals extends OptionValues>(
  cmd: Command<[], Options, Globals>,
) {
  return cmd
    .addOption(new Option('--step <n>', 'revert the last n applied migrations').argParser(positiveInt))
    .option('--to <name>', 'revert back to and including this migration')
    .option('--all', 'revert every applied migration (under --env production also needs --force)')
    .option('--force', 'allow --all in production')
    .addOption(lockTimeout());
}
