import { type Command, Option } from 'commander';
import { milliseconds, positiveInt } from './parse-options.js';
import type { Lazy } from './program.js';

const DEFAULT_LOCK_TIMEOUT_MS = 60_000;

const lockTimeout = () =>
  new Option('--lock-timeout <ms>', 'wait this long for another runner holding the migration lock, then exit 5')
    .default(DEFAULT_LOCK_TIMEOUT_MS)
    .argParser(milliseconds);

function rollbackOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--step <n>', 'revert the last n applied migrations').argParser(positiveInt))
    .option('--to <name>', 'revert back to and including this migration')
    .option('--all', 'revert every applied migration (under --env production also needs --force)')
    .option('--force', 'allow --all in production')
    .addOption(lockTimeout());
}

const migrateAction = (name: 'up' | 'create') => async () => ({
  default: (await import('./migrate.js'))[name],
});
const rollbackAction = () => import('./rollback.js');

/** `migrate [up|status|create|down]` and `rollback` (README, "Commands"); actions load lazily. */
export function registerMigrate(program: Command, lazy: Lazy): void {
  const migrate = program
    .command('migrate')
    .description('database migrations (umzug over PostgreSQL): up, status, create, down');
  migrate
    .command('up', { isDefault: true })
    .description('apply pending migrations, each in its own transaction, under an advisory lock')
    .option('--to <name>', 'apply up to and including this migration')
    .addOption(new Option('--step <n>', 'apply the next n pending migrations').argParser(positiveInt))
    .option('--allow-drift', 'run even though applied migrations changed or disappeared')
    .addOption(lockTimeout())
    .action(lazy(migrateAction('up')));
  migrate
    .command('status')
    .description('executed, pending, drifted and missing migrations')
    .option('--exit-code', 'exit 1 when anything is pending, drifted or missing')
    .action(lazy(() => import('./migrate-status.js')));
  migrate
    .command('create')
    .argument('<name>', 'what the migration does, e.g. add_order_status')
    .description("write a new migration from templates/, numbered in the folder's style")
    .option('--sql', 'a .sql file with -- up / -- down sections (default, or the style of the newest migration)')
    .option('--js', 'a JavaScript module exporting up and down')
    .option('--ts', 'a TypeScript module exporting up and down')
    .action(lazy(migrateAction('create')));
  rollbackOptions(migrate.command('down').description('same as `opsctl rollback`')).action(lazy(rollbackAction));
  rollbackOptions(
    program
      .command('rollback')
      .description('revert applied migrations (default: the last one); asks first, --yes in CI'),
  ).action(lazy(rollbackAction));
}
