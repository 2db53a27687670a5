import { Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { type ExitCodeList, helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { positiveInt } from '../shared/parse-options.js';

const EXIT_CODES: ExitCodeList = [
  [ExitCode.ok, 'the statistics were read'],
  [ExitCode.usage, 'usage or configuration error (no Redis configured, not a redis:// URL)'],
  [ExitCode.unreachable, 'Redis could not be reached or refused us'],
  ExitCode.interrupted,
];

/** `opsctl cache stats`: the Redis cache reviewed (README, "`opsctl cache stats`"). */
export function register(program: Program): void {
  const examples = ['opsctl cache stats', 'opsctl cache stats --json --timeout 2000'];
  const cache = program
    .command('cache')
    .description('review the Redis cache')
    .addHelpText('after', helpText(examples, EXIT_CODES));
  const stats = cache
    .command('stats')
    .description('hit rate, keys per database, memory, evictions, biggest key patterns (SCAN sampling)')
    .addOption(new Option('--timeout <ms>', 'time limit for the whole review (default: 5000)').argParser(positiveInt))
    .addHelpText('after', helpText(examples, EXIT_CODES));
  lazyAction(stats, async () => (await import('./stats.js')).stats);
}
