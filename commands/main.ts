import { existsSync, readFileSync } from 'node:fs';
import { ExitCode } from '../src/errors.js';

/** Written by `npm run build` (scripts/build.js): the top-level help, so `opsctl --help` need not load commander. */
const HELP_CACHE = new URL('../help.txt', import.meta.url);

/**
 * Run the CLI and return the exit code (bin/opsctl.js sets it). `--version` and `--help` answer without loading
 * commander (start-up stays close to bare Node); everything else loads the program (index.ts).
 */
export async function main(argv: string[]): Promise<number> {
  // `opsctl logs | head -1`: once the reader is gone there is nobody to tell; stop quietly, as cat does
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok);
    throw error;
  });
  // decided before any command module (and chalk, listr2) loads: both read the environment once, at import
  if (argv.includes('--no-color') || process.env.NO_COLOR) {
    process.env.NO_COLOR = '1';
    process.env.FORCE_COLOR = '0';
  }
  const only = argv.length === 3 ? argv[2] : undefined;
  if (only === '--version' || only === '-V') {
    const { version } = await import('./shared/version.js');
    process.stdout.write(`${version()}\n`);
    return ExitCode.ok;
  }
  if ((only === '--help' || only === '-h') && existsSync(HELP_CACHE)) {
    process.stdout.write(readFileSync(HELP_CACHE, 'utf8'));
    return ExitCode.ok;
  }
  if (argv[2] === '__complete') {
    const { answerCompletion } = await import('./completion/answer.js');
    answerCompletion(argv.slice(3));
    return ExitCode.ok;
  }
  const { run } = await import('./index.js');
  return run(argv);
}
