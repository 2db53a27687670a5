import { Option } from '@commander-js/extra-typings';
import { ExitCode } from '../../src/errors.js';
import type { Program } from '../shared/global-options.js';
import { type ExitCodeList, helpText } from '../shared/help.js';
import { lazyAction } from '../shared/lazy.js';
import { milliseconds, positiveInt } from '../shared/parse-options.js';

const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_SAMPLE = 100;

const ROTATE_CODES: ExitCodeList = [
  [ExitCode.ok, 'every value is under the new key, each verified by reading it back (or --dry-run counted them)'],
  [
    ExitCode.usage,
    'usage or configuration error (no encryption config, key variable unset, a table without primary key, an existing --key-file, production without --yes)',
  ],
  [
    ExitCode.failed,
    'wrong current key (nothing changed), a value that decrypts with neither key, a failed verification',
  ],
  [ExitCode.unreachable, 'the database is unreachable or refused the login'],
  [ExitCode.locked, 'another rotation of the same column holds its lock (named)'],
  [ExitCode.interrupted, 'interrupted (run it again: it resumes), or declined at the prompt'],
];

/** `opsctl keys rotate` and `keys status` (README, "`opsctl keys`"). */
export function register(program: Program): void {
  const keys = program
    .command('keys')
    .description("rotate the app's encryption keys: re-encrypt its columns through its own module")
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl keys status',
          'opsctl keys rotate --new-key-env NEW_ENCRYPTION_KEY',
          'opsctl keys rotate --generate --key-file new.key --dry-run',
        ],
        ROTATE_CODES,
      ),
    );

  const rotate = keys
    .command('rotate')
    .description('re-encrypt every configured column with a new key (or module), in batches, resumable, verified')
    .option('--new-key-env <var>', 'the variable holding the new key (a key is never taken from the command line)')
    .option('--key-file <file>', 'a file holding the new key')
    .option(
      '--generate',
      'write a new key (32 random bytes, 64 hex characters, mode 0600) to --key-file, never over a file',
    )
    .option('--to-module <path>', 're-encrypt to this module (same encrypt/decrypt names), relative to the app root')
    .addOption(
      new Option('--batch-size <n>', 'values per batch (one read, one write)')
        .default(DEFAULT_BATCH_SIZE)
        .argParser(positiveInt),
    )
    .addOption(
      new Option('--lock-timeout <ms>', "wait this long for another rotation's lock, then exit 5")
        .default(0)
        .argParser(milliseconds),
    )
    .addHelpText(
      'after',
      helpText(
        [
          'opsctl keys rotate --generate --key-file /secure/new.key   # then set ENCRYPTION_KEY from it',
          'opsctl keys rotate --new-key-env NEW_KEY --dry-run --json',
          'opsctl keys rotate --to-module backend/utils/encryption-v2.js   # same key, new algorithm',
        ],
        ROTATE_CODES,
      ),
    );
  lazyAction(rotate, async () => (await import('./rotate.js')).rotate);

  const status = keys
    .command('status')
    .description('per column: rows, how many decrypt with the configured key, last rotation and its age')
    .addOption(new Option('--sample <n>', 'values tried per column').default(DEFAULT_SAMPLE).argParser(positiveInt))
    .option('--all', 'try every value (reads the whole table)')
    .addHelpText(
      'after',
      helpText(
        ['opsctl keys status', 'opsctl keys status --all --json'],
        [
          [ExitCode.ok, 'every value tried decrypts with the configured key'],
          [ExitCode.findings, 'some values do not decrypt with the configured key, or a rotation has not finished'],
          [ExitCode.usage, 'usage or configuration error (no encryption config, key variable unset)'],
          [ExitCode.unreachable, 'the database is unreachable or refused the login'],
          ExitCode.interrupted,
        ],
      ),
    );
  lazyAction(status, async () => (await import('./status.js')).status);
}
