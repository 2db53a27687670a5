import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';

/**
 * A word the user meant as a subcommand but commander handed to the parent's default subcommand as an argument:
 * `opsctl migrate stauts` runs `up` with "stauts" and fails with "too many arguments for 'up'". Returns the error
 * to report instead, "unknown command 'stauts'" with commander's own "(Did you mean status?)"; or undefined when
 * `error` is something else.
 */
export function typoOfSubcommand(cmd: CommandUnknownOpts, error: CommanderError): CommanderError | undefined {
  const parent = cmd.parent;
  const word = parent?.args[0];
  if (error.code !== 'commander.excessArguments' || !parent || !word || word === cmd.name()) return undefined;
  // a command that knows only the parent's subcommand names: commander's unknown-command error, suggestion included
  const probe = new Command(parent.name())
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  for (const sibling of parent.commands) probe.command(sibling.name());
  try {
    probe.parse([word], { from: 'user' });
  } catch (probeError) {
    if (probeError instanceof CommanderError && probeError.code === 'commander.unknownCommand') {
      return new CommanderError(error.exitCode, probeError.code, probeError.message);
    }
  }
  return undefined;
}

/**
 * The names close to `word` (a mistyped migration name), by commander's own similarity rule, through the same kind
 * of probe as above: a command that knows only `names` as subcommands, asked for `word`.
 */
export function nearNames(word: string, names: string[]): string[] {
  const probe = new Command('probe')
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
  for (const name of new Set(names)) probe.command(name);
  try {
    probe.parse([word], { from: 'user' });
  } catch (probeError) {
    const said = /\(Did you mean (?:one of )?(.+)\?\)/.exec((probeError as Error).message)?.[1];
    if (said) return said.split(', ');
  }
  return [];
}
