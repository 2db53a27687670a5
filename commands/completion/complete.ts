import type { CommandUnknownOpts, Option } from '@commander-js/extra-typings';

/** Values only the app knows: its packages and pipelines (read from the config when a completion asks). */
export interface AppNames {
  packages(): string[];
  pipelines(): string[];
}

export interface Candidate {
  value: string;
  description: string;
}

/**
 * What may come at the cursor, from the command table itself (README, "Shell completion"): `words` are the words
 * after `opsctl`, the last one the word being completed (possibly empty). Subcommands and arguments of the command
 * reached so far, the options of that command and of every command above it (global ones included), the values of
 * the option just typed. Package and pipeline names come from the app.
 */
export function complete(program: CommandUnknownOpts, words: string[], app: AppNames): Candidate[] {
  const current = words.at(-1) ?? '';
  let command = program;
  let positional = 0;
  let pending: Option | undefined; // an option waiting for its value
  for (const word of words.slice(0, -1)) {
    if (pending && !(pending.variadic && word.startsWith('-'))) {
      if (!pending.variadic) pending = undefined;
      continue;
    }
    pending = undefined;
    if (word === '--') break;
    if (word.startsWith('-')) {
      const option = findOption(command, word.split('=')[0]!);
      if (option && (option.required || option.optional) && !word.includes('=')) pending = option;
      continue;
    }
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub && positional === 0) command = sub;
    else positional++;
  }
  const found: Candidate[] = [];
  if (pending) found.push(...optionValues(pending, app));
  if (!pending || (pending.variadic && current.startsWith('-'))) {
    if (current.startsWith('-')) found.push(...options(command));
    else {
      if (positional === 0) found.push(...subcommands(command));
      found.push(...argumentValues(command, positional, app));
    }
  }
  return found.filter((c) => c.value.startsWith(current));
}

function findOption(command: CommandUnknownOpts, flag: string): Option | undefined {
  for (let c: CommandUnknownOpts | null = command; c; c = c.parent) {
    const option = c.options.find((o) => o.long === flag || o.short === flag);
    if (option) return option;
  }
  return undefined;
}

/** The command's own options, then those of the commands above it (`--help` once). */
function options(command: CommandUnknownOpts): Candidate[] {
  const help = command.createHelp();
  const found = new Map<string, string>();
  for (let c: CommandUnknownOpts | null = command; c; c = c.parent) {
    for (const o of help.visibleOptions(c)) if (o.long && !found.has(o.long)) found.set(o.long, o.description);
  }
  return [...found].map(([value, description]) => ({ value, description }));
}

function subcommands(command: CommandUnknownOpts): Candidate[] {
  return command
    .createHelp()
    .visibleCommands(command)
    .flatMap((c) => [c.name(), ...c.aliases()].map((value) => ({ value, description: c.description() })));
}

/** An argument or option is completed from the app by its name: `<package>`, `[packages...]`, `[pipeline]`. */
function appValues(name: string, app: AppNames): Candidate[] {
  if (/^packages?$/.test(name)) return app.packages().map((value) => ({ value, description: 'package' }));
  if (name === 'pipeline') return app.pipelines().map((value) => ({ value, description: 'pipeline' }));
  return [];
}

function optionValues(option: Option, app: AppNames): Candidate[] {
  if (option.argChoices) return option.argChoices.map((value) => ({ value, description: option.description }));
  return appValues(option.attributeName(), app);
}

function argumentValues(command: CommandUnknownOpts, index: number, app: AppNames): Candidate[] {
  const args = command.registeredArguments;
  const arg = args[index] ?? (args.at(-1)?.variadic ? args.at(-1) : undefined);
  if (!arg) return [];
  if (arg.argChoices) return arg.argChoices.map((value) => ({ value, description: arg.description }));
  return appValues(arg.name(), app);
}
