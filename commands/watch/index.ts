import { InvalidArgumentError, Option } from '@commander-js/extra-typings';
import { DEFAULT_CHECK_TIMEOUT_MS } from '../../src/checks/ids.js';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { interval, positiveInt, tcpPort } from '../shared/parse-options.js';

/** `--webhook <url>`, repeatable: an http(s) URL, else a usage error. */
function webhookUrl(value: string, previous: string[] | undefined): string[] {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['http:', 'https:'].includes(url.protocol)) {
    throw new InvalidArgumentError('expected an http:// or https:// URL.');
  }
  return [...(previous ?? []), value];
}

/** `opsctl watch`: doctor's checks on an interval, PM2 restarts, alerts on changes (README, "`opsctl watch`"). */
export function register(program: Program): void {
  const watch = program
    .command('watch')
    .description('run the doctor checks every interval and follow PM2; alert a webhook or command on changes')
    .addOption(
      new Option(
        '--interval <duration>',
        'time between rounds: 500ms, 30s, 5m; a number is ms (default: 30s)',
      ).argParser(interval),
    )
    .addOption(
      new Option('--after <n>', 'consecutive failing rounds before a fail alert (default: 1)').argParser(positiveInt),
    )
    .addOption(
      new Option('--repeat <duration>', 'remind about a check still failing this often (default: 1h)').argParser(
        interval,
      ),
    )
    .addOption(
      new Option('--timeout <ms>', `time limit per check (default: ${DEFAULT_CHECK_TIMEOUT_MS})`).argParser(
        positiveInt,
      ),
    )
    .option('--only <ids...>', 'run only these checks (as doctor)')
    .option('--skip <ids...>', 'skip these checks (as doctor)')
    .option('--webhook <url>', 'POST each alert as JSON here (repeatable; adds to alerts in the config)', webhookUrl)
    .addOption(
      new Option('--metrics <port>', 'serve Prometheus metrics on 127.0.0.1:<port>/metrics').argParser(tcpPort),
    )
    .option('--announce', 'send one "started" event when the first round is green')
    .option('--once', 'one round for cron or CI: send the alerts of failing checks, exit 1 if any fails')
    .option('--daemon', "run the watcher under the app's PM2 as opsctl-watch (stop it with `opsctl stop opsctl-watch`)")
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl watch --webhook "$SLACK_WEBHOOK_URL"',
          'opsctl watch --interval 1m --after 3 --metrics 9464 --daemon',
          'opsctl watch --once --json          # cron or CI',
        ],
        [
          [ExitCode.ok, 'stopped normally; with --once: no check failed'],
          [ExitCode.findings, 'with --once: a check failed'],
          [ExitCode.usage, 'usage or configuration error (an unknown check id, a bad duration or URL)'],
          [ExitCode.failed, 'the --metrics port is taken; --daemon: PM2 could not start it'],
          ExitCode.interrupted,
          ExitCode.terminated,
        ],
      ),
    );
  lazyAction(watch, async () => (await import('./watch.js')).watch);
}
