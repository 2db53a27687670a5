import type { CommanderError, CommandUnknownOpts } from '@commander-js/extra-typings';
import { ExitCode, usageError } from '../src/errors.js';
import * as audit from './audit/index.js';
import * as cache from './cache/index.js';
import * as config from './config/index.js';
import * as db from './db/index.js';
import * as deploy from './deploy/index.js';
import * as deps from './deps/index.js';
import * as doctor from './doctor/index.js';
import * as migrate from './migrate/index.js';
import * as processes from './process/index.js';
import { createProgram } from './shared/global-options.js';
import { commandName, lastExitCode } from './shared/lazy.js';
import { reportError } from './shared/output.js';
import { typoOfSubcommand } from './shared/typo.js';
import * as watch from './watch/index.js';

/**
 * The program: the global options and each family's commands. Only commander loads before a command runs; each
 * action's module (and with it pg, ioredis, listr2, execa...) is imported when that command runs.
 */
export function buildProgram() {
  const program = createProgram();
  for (const family of [doctor, config, db, migrate, deploy, processes, deps, audit, watch, cache])
    family.register(program);
  for (const cmd of [program, ...allCommands(program)]) {
    // commander's usage errors go through the one error path below (README, "Output")
    cmd.exitOverride((error) => {
      const typo = typoOfSubcommand(cmd, error);
      throw typo ? new UsageFailure(typo, commandName(cmd.parent ?? cmd)) : new UsageFailure(error, commandName(cmd));
    });
    cmd.configureOutput({ outputError: () => undefined });
  }
  return program;
}

/** Parse argv and run the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return lastExitCode();
  } catch (error) {
    const options = { debug: argv.includes('--debug'), json: argv.includes('--json') };
    if (!(error instanceof UsageFailure)) return reportError(error, { ...options, command: argv[2] ?? '' });
    const { code, message, exitCode } = error.commanderError;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') return ExitCode.ok;
    // help shown because a subcommand is missing (`opsctl config`) exits 1 in commander; for us it is a usage error
    if (code === 'commander.help' && exitCode === ExitCode.ok) return ExitCode.ok;
    const typed = ['opsctl', error.command].filter(Boolean).join(' ');
    const { what, hint } = explain(code === 'commander.help' ? `${typed} needs a subcommand.` : message);
    return reportError(usageError(what, hint ?? `See \`${typed} --help\`.`), { ...options, command: error.command });
  }
}

/** A commander parse failure and the command it belongs to (commander's own error does not say). */
class UsageFailure extends Error {
  constructor(
    readonly commanderError: CommanderError,
    readonly command: string,
  ) {
    super(commanderError.message);
  }
}

/** commander's message without its "error: " prefix; its "(Did you mean …?)" line becomes the hint. */
function explain(message: string): { what: string; hint?: string } {
  const [first = '', ...rest] = message.replace(/^error: /, '').split('\n');
  const suggestion = /^\((Did you mean .+\?)\)$/.exec(rest.join(' ').trim())?.[1];
  return { what: first, hint: suggestion };
}

function allCommands(cmd: CommandUnknownOpts): CommandUnknownOpts[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}
