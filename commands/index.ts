import type { CommanderError, CommandUnknownOpts } from '@commander-js/extra-typings';
import { ExitCode, usageError } from '../src/errors.js';
import * as audit from './audit/index.js';
import * as cache from './cache/index.js';
import * as completion from './completion/index.js';
import * as config from './config/index.js';
import * as db from './db/index.js';
import * as debug from './debug/index.js';
import * as deploy from './deploy/index.js';
import * as deps from './deps/index.js';
import * as doctor from './doctor/index.js';
import * as init from './init/index.js';
import * as keys from './keys/index.js';
import * as lb from './lb/index.js';
import * as migrate from './migrate/index.js';
import * as processes from './process/index.js';
import * as pipelines from './run/index.js';
import { registerCommandLines } from './shared/command-line.js';
import { createProgram } from './shared/global-options.js';
import { commandName, lastExitCode, type ParsedLine, resetExitCode, withoutActions } from './shared/lazy.js';
import { reportError } from './shared/output.js';
import { typoOfSubcommand } from './shared/typo.js';
import * as watch from './watch/index.js';

/**
 * The program: the global options and each family's commands. Only commander loads before a command runs; each
 * action's module (and with it pg, ioredis, listr2, execa...) is imported when that command runs.
 */
export function buildProgram() {
  const program = createProgram();
  const families = [
    doctor,
    config,
    db,
    migrate,
    deploy,
    processes,
    debug,
    deps,
    audit,
    pipelines,
    init,
    completion,
    watch,
    cache,
    lb,
    keys,
  ];
  for (const family of families) family.register(program);
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

registerCommandLines({ run, verify: verifyCommandLine });

/** Parse argv and run the command; returns the exit code. */
export async function run(argv: string[]): Promise<number> {
  try {
    resetExitCode();
    await buildProgram().parseAsync(argv);
    return lastExitCode();
  } catch (error) {
    const options = { debug: argv.includes('--debug'), json: argv.includes('--json') };
    if (!(error instanceof UsageFailure)) return reportError(error, { ...options, command: argv[2] ?? '' });
    const usage = usageOf(error);
    return usage ? reportError(usage, { ...options, command: error.command }) : ExitCode.ok;
  }
}

/**
 * Parse a command line against the command table without running it (a pipeline checks every step before the first
 * runs); a usage error (unknown command or flag, a bad value) is thrown as an OpsError, exit 2.
 */
export async function verifyCommandLine(argv: string[]): Promise<ParsedLine | undefined> {
  const program = buildProgram();
  const silent = { writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined };
  for (const cmd of [program, ...allCommands(program)]) cmd.configureOutput(silent);
  try {
    return await withoutActions(() => program.parseAsync(argv));
  } catch (error) {
    const usage = error instanceof UsageFailure ? usageOf(error) : error;
    if (usage) throw usage;
    return undefined;
  }
}

/** The usage error a commander parse failure stands for; undefined when it only showed help or the version. */
function usageOf(error: UsageFailure) {
  const { code, message, exitCode } = error.commanderError;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') return undefined;
  // help shown because a subcommand is missing (`opsctl config`) exits 1 in commander; for us it is a usage error
  if (code === 'commander.help' && exitCode === ExitCode.ok) return undefined;
  const typed = ['opsctl', error.command].filter(Boolean).join(' ');
  const { what, hint } = explain(code === 'commander.help' ? `${typed} needs a subcommand.` : message);
  return usageError(what, hint ?? `See \`${typed} --help\`.`);
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

export function allCommands(cmd: CommandUnknownOpts): CommandUnknownOpts[] {
  return cmd.commands.flatMap((c) => [c, ...allCommands(c)]);
}
