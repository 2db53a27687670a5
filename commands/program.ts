import { Command, Option } from 'commander';
import { registerDeploy } from './deploy-commands.js';
import { registerMigrate } from './migrate-commands.js';
import { positiveInt } from './parse-options.js';
import { version } from './version.js';

/**
 * The command table. Only commander loads before a command runs; each action's module (and with it pg, ioredis,
 * listr2, execa...) is imported when that command runs, so `--version` and `--help` stay fast.
 */
export const EXIT_CODES_HELP = `
Exit codes:
  0    success, or nothing to do
  1    findings (a doctor check failed, vulnerabilities, outdated, pending migrations with --exit-code)
  2    usage or configuration error
  3    an operation failed (install, build, start, health, migration, child process)
  4    a dependency is unreachable or refused us (database, Redis, registry, Snyk)
  5    a lock is held by someone else
  130  interrupted`;

export type ActionModule = { default: (cmd: Command, ...args: unknown[]) => Promise<number> };

/** How a command file registers lazily loaded actions (see `lazy` below). */
export type Lazy = (load: () => Promise<ActionModule>) => (this: Command, ...args: unknown[]) => Promise<void>;

function globalOptions(program: Command): Command {
  return program
    .option('-C, --cwd <dir>', 'app root (default: current folder)')
    .option('-c, --config <file>', 'config file (default: opsctl.config.{json,yaml,yml})')
    .option('--env <name>', 'environment overlay from environments.<name> (or OPSCTL_ENV)')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('-p, --package <names...>', 'restrict to these packages')
    .addOption(new Option('--concurrency <n>', 'how many packages at once').argParser(positiveInt))
    .option('-y, --yes', 'answer yes to confirmations')
    .option('--dry-run', 'show what would change without changing it (where it applies)')
    .option('--debug', 'show stack traces and echo child commands')
    .option('--no-color', 'disable colours (also NO_COLOR)');
}

/** Wrap a lazily imported action so it reports its exit code. */
function lazy(load: () => Promise<ActionModule>) {
  return async function (this: Command, ...args: unknown[]) {
    const cmd = args[args.length - 1] as Command;
    const mod = await load();
    exitCode = await mod.default(cmd, ...args.slice(0, -2));
  };
}

let exitCode = 0;

/** The exit code the last action returned. */
export function lastExitCode(): number {
  return exitCode;
}

export function buildProgram(): Command {
  exitCode = 0;
  const program = new Command('opsctl')
    .description('Run a Node.js app made of several npm packages: doctor, database, deploy, migrate.')
    .version(version(), '-V, --version')
    .showSuggestionAfterError(true)
    .addHelpText('after', EXIT_CODES_HELP);
  globalOptions(program);

  program
    .command('doctor')
    .alias('troubleshoot')
    .description('run the on-call checks: config, node, dependencies, ports, postgres, redis, logs, inspector')
    .addOption(new Option('--timeout <ms>', 'time limit per check').argParser(positiveInt))
    .option('--only <ids...>', 'run only these checks (port selects every port:<pkg>)')
    .option('--skip <ids...>', 'skip these checks')
    .action(lazy(() => import('./doctor.js')));

  program
    .command('outdated [packages...]')
    .description('outdated dependencies of every package in one table (npm outdated, all at once)')
    .addOption(
      new Option('--fail-on <level>', 'exit 1 when something at or above this bump is outdated').choices([
        'major',
        'minor',
        'patch',
        'any',
      ]),
    )
    .addOption(new Option('--timeout <ms>', 'time limit per registry request (default 30000)').argParser(positiveInt))
    .action(lazy(() => import('./outdated.js')));

  program
    .command('update [dependencies...]')
    .description('npm update within the declared ranges (all or the named dependencies), optionally guarded by tests')
    .option('--latest', 'move to the latest version across majors (updates the range in package.json)')
    .option('--test', "run the package's test script afterwards; restore everything when it fails (exit 3)")
    .addOption(new Option('--timeout <ms>', 'time limit per registry request (default 30000)').argParser(positiveInt))
    .action(lazy(() => import('./update.js')));

  const config = program.command('config').description('show the resolved config or its JSON Schema');
  config
    .command('show')
    .description('print the resolved config (secrets redacted)')
    .action(lazy(() => import('./config-show.js')));
  config
    .command('schema')
    .description('print the config JSON Schema')
    .action(lazy(() => import('./config-schema.js')));

  const db = program.command('db').description('a local PostgreSQL for development, kept under .opsctl/pg');
  for (const [name, description] of [
    ['start', 'initialise (first time) and start the embedded PostgreSQL'],
    ['stop', 'stop the embedded PostgreSQL'],
    ['status', 'is the embedded PostgreSQL running, and where'],
    ['url', 'print the database URL opsctl uses (password redacted unless --show-password)'],
  ] as const) {
    const sub = db.command(name).description(description);
    if (name === 'url') sub.option('--show-password', 'print the password too (for scripts; never logged)');
    sub.action(lazy(async () => ({ default: (await import('./db.js'))[name] })));
  }

  registerMigrate(program, lazy);
  registerDeploy(program, lazy);

  for (const cmd of [program, ...allCommands(program)]) {
    cmd.exitOverride();
    cmd.configureOutput({ outputError: (str, write) => write(`✖ ${str.replace(/^error: /, '')}`) });
  }
  return program;
}

function allCommands(cmd: Command): Command[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}
