import { isProduction, PRODUCTION } from '../../src/db/target-label.js';
import { ExitCode, OpsError, usageError } from '../../src/errors.js';
import { ask, confirm, type PromptStreams } from './confirm.js';
import { type Cli, canPrompt } from './context.js';
import { err } from './output.js';

/** A change a command asks about before making it (README, "Confirmations"). */
export interface Change {
  /**
   * What will change and where, as a question without its `?`, the target named:
   * `Roll back 0003_add_order_status on app@db.internal:5432/shop (production)` (see src/db/target-label.ts).
   */
  question: string;
  /** Under `--env production` it needs the environment's name typed, or `--yes` with `--env production` typed. */
  destructive: boolean;
  /** What a "no" leaves, for the cancel message: `nothing was reverted`. */
  unchanged: string;
  /** Another way out for the no-TTY message: `--dry-run to see what would be reverted`. */
  alternative?: string;
}

/**
 * Ask before a change, or take `--yes` (then say on stderr what it confirmed). Under `--env production` a
 * destructive change needs the environment's name typed at the prompt, or `--yes` with `--env production` on the
 * command line (OPSCTL_ENV alone does not count: it may be left over in a shell). Without a terminal and without
 * those: exit 2 naming what to pass. A "no" (or a wrong name) is exit 130 with nothing changed.
 */
export async function confirmChange(cli: Cli, change: Change, streams?: PromptStreams): Promise<void> {
  const guarded = verifyConfirmable(cli, change, Boolean(streams));
  if (takesYes(cli, guarded)) {
    if (!cli.json) err(`✔ --yes: ${change.question}.`);
    return;
  }
  const question = `${change.question}?`;
  if (guarded && cli.opts.yes && !cli.json) err(`⚠ ${YES_FROM_ENV}`);
  if (guarded) {
    const typed = (await ask(`${question}\nType the environment's name (${PRODUCTION}) to go on: `, streams)).trim();
    if (typed === PRODUCTION) return;
    throw cancelled(change, typed ? `"${typed}" is not "${PRODUCTION}"` : 'no environment name typed');
  }
  if (!(await confirm(question, streams))) throw cancelled(change);
}

/**
 * Refuse early, before connecting to anything, when the change could not be confirmed: no terminal and no `--yes`,
 * or production's `--yes` without `--env production` typed. Returns whether the production guard applies.
 */
export function verifyConfirmable(cli: Cli, change: Omit<Change, 'unchanged'>, hasStreams = false): boolean {
  const guarded = change.destructive && isProduction(cli.config());
  if (!takesYes(cli, guarded) && !hasStreams && !canPrompt())
    throw noAnswerError(change, guarded, Boolean(cli.opts.yes));
  return guarded;
}

/** `--yes` answers, except for a guarded change whose `--env production` came from OPSCTL_ENV (then it asks). */
function takesYes(cli: Cli, guarded: boolean): boolean {
  return Boolean(cli.opts.yes) && (!guarded || cli.opts.env === PRODUCTION);
}

const YES_FROM_ENV = `--yes is not enough here: under ${PRODUCTION} it counts only with --env ${PRODUCTION} on the command line (the environment came from OPSCTL_ENV).`;

function noAnswerError(change: Omit<Change, 'unchanged'>, guarded: boolean, yes: boolean): OpsError {
  if (guarded && yes) {
    return usageError(
      `${change.question}: under production --yes counts only with --env ${PRODUCTION} on the command line (the environment came from OPSCTL_ENV).`,
      `Pass --yes --env ${PRODUCTION} to confirm, or run it on a terminal and type "${PRODUCTION}".`,
    );
  }
  const flags = guarded ? `--yes --env ${PRODUCTION}` : '--yes';
  return usageError(
    `${change.question}: this needs confirmation, and this session cannot ask (no TTY, CI is set, or a pipeline step).`,
    `Pass ${flags} to confirm${change.alternative ? `, or ${change.alternative}` : ''}.`,
  );
}

function cancelled(change: Change, why?: string): OpsError {
  return new OpsError('CANCELLED', `Cancelled${why ? ` (${why})` : ''}; ${change.unchanged}.`, {
    exitCode: ExitCode.interrupted,
  });
}

/**
 * A change asked about only under `--env production` (stop, scale to 0, migrate --allow-drift): elsewhere it goes
 * ahead as it always did; there it needs the environment's name typed, or `--yes --env production`.
 */
export async function confirmInProduction(cli: Cli, change: Omit<Change, 'destructive'>): Promise<void> {
  if (isProduction(cli.config())) await confirmChange(cli, { ...change, destructive: true });
}
