import { Option } from '@commander-js/extra-typings';
import { ExitCode, usageError } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { type ExitCodeList, helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { duration, grepPattern, lineCount } from '../shared/parse-options.js';
import { TARGET_HELP, targetable } from '../shared/target.js';

const SLOW_HOST_MS = 5 * 60_000; // start/restart: health gates on every host

const EXIT_CODES: ExitCodeList = [
  [ExitCode.ok, 'success; also a no-op (already running, scaling to the current count)'],
  [
    ExitCode.usage,
    'usage or configuration error (unknown package, a library without a start script, not cluster mode)',
  ],
  [ExitCode.failed, 'PM2 failed, or a package did not become healthy'],
  ExitCode.interrupted,
];
/** start, stop, restart and scale hold the app's lock (README, "One at a time"). */
const LOCKING_EXIT_CODES: ExitCodeList = [
  ...EXIT_CODES.slice(0, -1),
  [ExitCode.locked, 'another deploy/start/stop/restart/scale of this app is running (names its pid)'],
  ExitCode.interrupted,
];
/** start and restart also refuse to drop a value the config reads from an unset `${VAR}` (README, "A changed environment"). */
const STARTING_EXIT_CODES: ExitCodeList = [
  LOCKING_EXIT_CODES[0]!,
  [
    ExitCode.usage,
    'usage or configuration error; or a value the config reads from an unset ${VAR} would be lost (no terminal to ask, no --yes)',
  ],
  ...LOCKING_EXIT_CODES.slice(2, -1),
  [ExitCode.interrupted, 'interrupted, or "no" at the prompt'],
];

/**
 * `status`, `start|stop|restart [packages...]`, `logs [package]`, `scale <package> <n|+n|-n>`: the app's processes
 * under PM2 (README, "`opsctl status`, ...").
 */
export function register(program: Program): void {
  const status = program
    .command('status')
    .description('per package: instances, pids, state, uptime, restarts, memory, cpu, port, health (PM2)')
    .option('--target <name>', TARGET_HELP)
    .addHelpText('after', helpText(['opsctl status', 'opsctl status --json'], EXIT_CODES));
  lazyAction(status, async () => targetable((await import('./status.js')).status, () => ['status']));

  const start = program
    .command('start')
    .argument('[packages...]', 'these packages (default: all with a start script)')
    .description("start the packages' PM2 processes")
    .option('--target <name>', TARGET_HELP)
    .addHelpText(
      'after',
      helpText(
        ['opsctl start', 'opsctl start -p backend,frontend', 'opsctl start backend --yes --json'],
        STARTING_EXIT_CODES,
      ),
    );
  lazyAction(start, async () =>
    targetable((await import('./start.js')).start, (o, names) => ['start', ...names, ...yes(o)], SLOW_HOST_MS),
  );

  const stop = program
    .command('stop')
    .argument('[packages...]', 'these packages (default: all with a start script)')
    .description("stop the packages' PM2 processes")
    .option('--orphans', "stop and delete the app's PM2 processes of packages no longer in the config")
    .option('--target <name>', TARGET_HELP)
    .addHelpText(
      'after',
      helpText(
        ['opsctl stop                 # frees the ports', 'opsctl stop frontend', 'opsctl stop --orphans'],
        LOCKING_EXIT_CODES,
      ),
    );
  lazyAction(stop, async () =>
    targetable((await import('./stop.js')).stop, (o, names) => ['stop', ...names, ...(o.orphans ? ['--orphans'] : [])]),
  );

  const restart = program
    .command('restart')
    .argument('[packages...]', 'these packages (default: all with a start script)')
    .description("restart the packages' PM2 processes (a zero-downtime reload in cluster mode)")
    .option('--target <name>', TARGET_HELP)
    .addHelpText('after', helpText(['opsctl restart', 'opsctl restart backend --json'], STARTING_EXIT_CODES));
  lazyAction(restart, async () =>
    targetable((await import('./restart.js')).restart, (o, names) => ['restart', ...names, ...yes(o)], SLOW_HOST_MS),
  );

  const logs = program
    .command('logs')
    .argument(
      '[package]',
      'the package whose PM2 logs to show (default: every package, merged, each line prefixed with its name)',
    )
    .description("show the packages' recent log lines (redacted, JSON lines pretty-printed); --follow keeps streaming")
    .addOption(new Option('--lines <n>', 'how many lines').default(50).argParser(lineCount))
    .addOption(new Option('--since <duration>', 'only lines this recent (30m, 24h, 2d)').argParser(duration))
    .addOption(
      new Option('--grep <text>', 'only lines containing this text, or matching /regex/').argParser(grepPattern),
    )
    .option('--follow', 'keep printing new lines until Ctrl-C')
    .option('--target <name>', `${TARGET_HELP}; not with --follow`)
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl logs                              # every package, merged by time',
          "opsctl logs --since 30m --grep '/error|fatal/i'",
          'opsctl logs backend --follow --json',
        ],
        EXIT_CODES,
      ),
    );
  lazyAction(logs, async () => targetable((await import('./logs.js')).logs, logsArgs));

  const scale = program
    .command('scale')
    .argument('<package>', 'the package to scale (cluster mode)')
    .argument('<count>', 'n, +n or -n instances')
    .description('set the number of PM2 instances of a package; to the current count is a no-op')
    .option('--target <name>', `${TARGET_HELP}: the same count on each host`)
    .addHelpText('after', helpText(['opsctl scale backend +2', 'opsctl scale backend 1'], LOCKING_EXIT_CODES));
  lazyAction(scale, async () =>
    targetable((await import('./scale.js')).scale, (_o, pkg, count) => ['scale', pkg, count], SLOW_HOST_MS),
  );
}

const yes = (o: { yes?: boolean }) => (o.yes ? ['--yes'] : []);

/** `logs` as the hosts run it; `--follow` would never end on every host at once, so it is refused with --target. */
function logsArgs(o: { lines: number; since?: number; grep?: string; follow?: boolean }, name?: string): string[] {
  if (o.follow)
    throw usageError('--follow cannot be used with --target.', 'Leave out --follow, or follow one host with ssh.');
  return [
    'logs',
    ...(name ? [name] : []),
    '--lines',
    String(o.lines),
    ...(o.since ? ['--since', `${Math.ceil(o.since / 1000)}s`] : []),
    ...(o.grep ? ['--grep', o.grep] : []),
  ];
}
