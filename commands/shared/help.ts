import type { CommandUnknownOpts } from '@commander-js/extra-typings';
import { ExitCode, type ExitCodeValue } from '../../src/errors.js';

/** What each exit code means for every command (README, "Exit codes"); a family words its own where it helps. */
const EXIT_CODE_MEANINGS: Record<ExitCodeValue, string> = {
  [ExitCode.ok]: 'success, or nothing to do',
  [ExitCode.findings]: 'findings (a doctor check failed, outdated, pending migrations with --exit-code)',
  [ExitCode.usage]: 'usage or configuration error',
  [ExitCode.failed]: 'an operation failed (install, build, start, health, migration, child process)',
  [ExitCode.unreachable]: 'a dependency is unreachable or refused us (database, Redis, registry)',
  [ExitCode.locked]: 'a lock is held by someone else',
  [ExitCode.hangup]: 'the terminal went away (SIGHUP; opsctl debug)',
  [ExitCode.interrupted]: 'interrupted',
  [ExitCode.terminated]: 'terminated (SIGTERM)',
};

export type ExitCodeList = Array<ExitCodeValue | [ExitCodeValue, string]>;

/** The `Exit codes:` block of a --help: each code with the family's wording or the common one. */
export function exitCodesHelp(codes: ExitCodeList): string {
  const lines = codes.map((entry) => {
    const [code, meaning] = Array.isArray(entry) ? entry : [entry, EXIT_CODE_MEANINGS[entry]];
    return `  ${String(code).padEnd(5)}${meaning}`;
  });
  return `\nExit codes:\n${lines.join('\n')}`;
}

/** Text after a command's --help: two or three examples, then the exit codes that apply to it. */
export function helpText(examples: string[], codes: ExitCodeList): string {
  return `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n${exitCodesHelp(codes)}`;
}

/**
 * The options of a family's default subcommand, for the family's own --help: commander shows the parent's help for
 * `opsctl migrate --help`, where the options of `migrate up` (what `opsctl migrate` runs) would stay hidden.
 */
export function defaultSubcommandHelp(parent: CommandUnknownOpts, name: string): string {
  const sub = parent.commands.find((c) => c.name() === name);
  if (!sub) return '';
  const help = parent.createHelp();
  const options = help.visibleOptions(sub).filter((o) => o.long !== '--help');
  const terms = options.map((o) => help.optionTerm(o));
  const width = Math.max(...terms.map((t) => t.length));
  const lines = options.map((o, i) => `  ${terms[i]!.padEnd(width)}  ${help.optionDescription(o)}`);
  return `\nOptions of \`opsctl ${parent.name()} ${name}\` (what \`opsctl ${parent.name()}\` runs):\n${lines.join('\n')}`;
}
