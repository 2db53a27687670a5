import { Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { type ExitCodeList, helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { instanceNumber, portNumber, processId } from '../shared/parse-options.js';

const EXIT_CODES: ExitCodeList = [
  [ExitCode.ok, 'the debugger session ended (or, without a session, the process exited on its own with code 0)'],
  [ExitCode.usage, 'usage error: unknown package, no entry point, --attach without a terminal, a dead or non-Node pid'],
  [ExitCode.failed, 'the package did not start, its port or inspector port is in use (holder named), no inspector'],
  [ExitCode.hangup, 'the terminal went away (SIGHUP, a dropped SSH session): the package was stopped too'],
  [ExitCode.interrupted, 'Ctrl-C: the package and every process it started were stopped'],
  [ExitCode.terminated, 'SIGTERM: the same'],
];

/** `opsctl debug [package]` and `opsctl debug attach [package]` (README, "`opsctl debug`"). */
export function register(program: Program): void {
  const debug = program
    .command('debug')
    .argument('[package]', 'the package to debug (default: the only package with a port)')
    .description('start a package under the Node.js inspector (its debug script, else node --inspect on its entry)')
    .option('--attach', 'open an interactive `node inspect` session in this terminal once the inspector is up')
    .option('--keep', 'with --attach: keep the package running after the session ends (Ctrl-C stops it)')
    .addOption(
      new Option('--port <port>', 'inspector port (default: debugPort, else a free port)').argParser(portNumber),
    )
    .option('--host <host>', 'inspector address (default 127.0.0.1; anything else lets the network run code in it)')
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl debug backend              # prints ws://127.0.0.1:9229/…; Ctrl-C stops it',
          'opsctl debug backend --attach     # a node inspect session in this terminal',
          'opsctl debug attach backend       # attach to the running backend (PM2 instance 0)',
        ],
        EXIT_CODES,
      ),
    );
  lazyAction(debug, async () => (await import('./start.js')).debugStart);

  const attach = debug
    .command('attach')
    .argument('[package]', 'the package whose running process to attach to (default: the only package with a port)')
    .description('attach a debugger to a running process, turning its inspector on (SIGUSR1) when needed')
    .addOption(new Option('--pid <pid>', 'the Node.js process to attach to').argParser(processId))
    .addOption(new Option('--port <port>', 'an inspector already listening on 127.0.0.1:<port>').argParser(portNumber))
    .addOption(
      new Option('--instance <k>', 'the PM2 instance of the package (default 0, by pm_id)').argParser(instanceNumber),
    )
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl debug attach backend               # instance 0 under PM2 (or the process on its port)',
          'opsctl debug attach backend --instance 1',
          'opsctl debug attach --pid 4321            # any Node.js process of yours; --port 9229 for an open inspector',
        ],
        [
          [ExitCode.ok, 'the session ended; the process keeps running (or, without a terminal, the URL was printed)'],
          [ExitCode.usage, 'usage error: unknown package, no such instance, a dead or non-Node pid'],
          [ExitCode.failed, 'not running, no inspector answers, SIGUSR1 opened none (holder of its port named)'],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(attach, async () => (await import('./attach.js')).debugAttach);
}
