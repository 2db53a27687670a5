import type { Command, OptionValues } from '@commander-js/extra-typings';
import type { Invocation } from './context.js';

/** An action module's function: its invocation, then the command's arguments; resolves to the exit code. */
export type Action<Args extends unknown[], Options extends OptionValues> = (
  invocation: Invocation<Options>,
  ...args: Args
) => Promise<number>;

/** A command line parsed without running it: its options (global ones included) and its arguments by name. */
export interface ParsedLine {
  /** The command's names from the top: `run`, `migrate status`. */
  command: string;
  opts: Record<string, unknown>;
  args: Array<{ name: string; value: unknown }>;
}

let exitCode = 0;
let parseOnly = false;
let parsed: ParsedLine | undefined;

/**
 * Parse command lines inside `body` without running their actions (a pipeline checks its steps first); resolves to
 * what the command line's action would have been given (undefined when no action ran: `--help`).
 */
export async function withoutActions(body: () => Promise<unknown>): Promise<ParsedLine | undefined> {
  parseOnly = true;
  parsed = undefined;
  try {
    await body();
    return parsed;
  } finally {
    parseOnly = false;
  }
}

/** The exit code the last action returned. */
export function lastExitCode(): number {
  return exitCode;
}

/** Before a parse: a command line that runs no action (`--help`) leaves 0, not the previous command's code. */
export function resetExitCode(): void {
  exitCode = 0;
}

/**
 * Make `load` the command's action, imported only when the command runs (so `--help` and every other command
 * skip its code). Its options arrive typed from the command's declaration: global ones included.
 */
export function lazyAction<Args extends unknown[], Options extends OptionValues, Globals extends OptionValues>(
  command: Command<Args, Options, Globals>,
  load: () => Promise<Action<Args, ReturnType<Command<Args, Options, Globals>['optsWithGlobals']>>>,
): void {
  command.action(async () => {
    if (parseOnly) {
      const args = command.registeredArguments.map((a, i) => ({ name: a.name(), value: command.processedArgs[i] }));
      parsed = { command: commandPath(command), opts: command.optsWithGlobals(), args };
      return;
    }
    const action = await load();
    exitCode = await action({ name: commandName(command), opts: command.optsWithGlobals() }, ...command.processedArgs);
  });
}

interface Named {
  name(): string;
  aliases(): string[];
  args: string[];
  parent: Named | null;
}

/** The command's names from the top (`migrate status`), whatever was typed (an alias, a default subcommand). */
function commandPath(command: Named): string {
  const names: string[] = [];
  for (let c: Named | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * The command as the user typed it (an alias counts as the command's name). A command the parent ran without its
 * name being typed is the parent's default (`opsctl migrate` runs `up`) and is left out.
 */
export function commandName(command: Named): string {
  const names: string[] = [];
  for (let c: Named | null = command; c?.parent; c = c.parent) {
    const typed = c.parent.args[0];
    if (typed === c.name() || (typed !== undefined && c.aliases().includes(typed))) names.unshift(c.name());
  }
  return names.join(' ');
}
