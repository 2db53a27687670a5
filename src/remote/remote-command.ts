// hand-written (not shell-quote's `quote`): POSIX single quotes are the one form with no special character inside,
// so the quoter is a line that can be checked by reading it (and is, in test/unit/remote-command.test.ts)
const BARE = /^[A-Za-z0-9_/.,:=@%+-]+$/;

/** One argument for a POSIX shell: bare when only safe characters, else in single quotes (`'` as `'\''`). */
export function shellQuote(arg: string): string {
  return BARE.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * The one string ssh hands to the host's POSIX shell, built only by quoting each argv element and joining whole
 * commands with `&&`: nothing from the config or the command line is ever spliced in unquoted.
 */
export function remoteCommand(...commands: string[][]): string {
  return commands.map((argv) => argv.map(shellQuote).join(' ')).join(' && ');
}
