import { existsSync, readFileSync } from 'node:fs';

/** Written by `npm run build` (scripts/build.js): the top-level help, so `opsctl --help` need not load commander. */
const HELP_CACHE = new URL('../help.txt', import.meta.url);

/**
 * Run the CLI and return the exit code (bin/opsctl.js sets it). `--version` and `--help` answer without loading
 * commander (start-up stays close to bare Node); everything else builds the command table.
 */
export async function main(argv: string[]): Promise<number> {
  // decided before any command module (and chalk, listr2) loads: both read the environment once, at import
  if (argv.includes('--no-color') || process.env.NO_COLOR) {
    process.env.NO_COLOR = '1';
    process.env.FORCE_COLOR = '0';
  }
  const only = argv.length === 3 ? argv[2] : undefined;
  if (only === '--version' || only === '-V') {
    const { version } = await import('./version.js');
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  if ((only === '--help' || only === '-h') && existsSync(HELP_CACHE)) {
    process.stdout.write(readFileSync(HELP_CACHE, 'utf8'));
    return 0;
  }
  const { buildProgram, lastExitCode } = await import('./program.js');
  const { CommanderError } = await import('commander');
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return lastExitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      // commander already printed the message; usage errors are exit 2 (README, "Exit codes")
      return 2;
    }
    const { reportError } = await import('./output.js');
    return reportError(err, { debug: argv.includes('--debug'), json: argv.includes('--json'), command: argv[2] ?? '' });
  }
}
