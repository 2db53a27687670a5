import type { Command, OptionValues } from '@commander-js/extra-typings';
import type { Invocation } from './context.js';

/** An action module's function: its invocation, then the command's arguments; resolves to the exit code. */
export type Action<Args extends unknown[], Options extends OptionValues> = (
  invocation: Invocation<Options>,
  ...args: Args
) => Promise<number>;

let exitCode = 0;
let parseOnly = false;

/** Parse command lines inside `body` without running their actions (a pipeline checks its steps first). */
export async function withoutActions(body: () => Promise<unknown>): Promise<void> {
  parseOnly = true;
  try {
    await body();
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
    if (parseOnly) return;
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
