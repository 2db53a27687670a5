import { type Command, Option } from 'commander';
import { lineCount, positiveMilliseconds } from './parse-options.js';
import type { Lazy } from './program.js';

const DEFAULT_HEALTH_TIMEOUT_MS = 30_000;

const processAction = (name: 'start' | 'stop' | 'restart' | 'logs' | 'scale') => async () => ({
  default: (await import('./process.js'))[name],
});

/** `deploy`, `status`, `start|stop|restart`, `logs`, `scale` (README, "Commands"); actions load lazily. */
export function registerDeploy(program: Command, lazy: Lazy): void {
  program
    .command('deploy')
    .argument('[packages...]', 'deploy only these packages (default: all)')
    .description('install, build, migrate, start under PM2 and health-gate, in dependency order; rolls back on failure')
    .option('--skip-install', 'do not run npm ci / npm install')
    .option('--skip-build', 'do not run npm run build')
    .option('--skip-migrate', 'do not apply pending migrations')
    .option('--no-start', 'install and build only')
    .option('--force', 'ignore the install and build caches; reload even when nothing changed')
    .option('--foreground', 'run the packages as plain child processes with prefixed logs (development)')
    .addOption(
      new Option('--health-timeout <ms>', 'how long a new release has to become healthy')
        .default(DEFAULT_HEALTH_TIMEOUT_MS)
        .argParser(positiveMilliseconds),
    )
    .action(lazy(() => import('./deploy.js')));
  program
    .command('status')
    .description('per package: instances, pids, state, uptime, restarts, memory, cpu, port, health (PM2)')
    .action(lazy(() => import('./status.js')));
  for (const verb of ['start', 'stop', 'restart'] as const) {
    program
      .command(verb)
      .argument('[packages...]', 'these packages (default: all with a start script)')
      .description(
        `${verb} the packages' PM2 processes${verb === 'restart' ? ' (a zero-downtime reload in cluster mode)' : ''}`,
      )
      .action(lazy(processAction(verb)));
  }
  program
    .command('logs')
    .argument('<package>', 'the package whose PM2 logs to show')
    .description("show a package's recent log lines (redacted); --follow keeps streaming")
    .addOption(new Option('--lines <n>', 'how many lines').default(50).argParser(lineCount))
    .option('--follow', 'keep printing new lines until Ctrl-C')
    .action(lazy(processAction('logs')));
  program
    .command('scale')
    .argument('<package>', 'the package to scale (cluster mode)')
    .argument('<count>', 'n, +n or -n instances')
    .description('set the number of PM2 instances of a package; to the current count is a no-op')
    .action(lazy(processAction('scale')));
}
