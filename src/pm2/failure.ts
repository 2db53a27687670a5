import { join } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import { type SourceLayout, sourcePathsIn } from '../logs/stack.js';

/** Where a failed start's last log lines are, for the hint: printed above, in the JSON step, in the message, none. */
export type LogTailPlace = 'above' | 'logTail' | 'message' | 'none';

/**
 * What to do after a failed start (README, "`opsctl deploy`"): read the log lines where they are; with none, the
 * process wrote nothing its PM2 logs kept, so PM2's own log is the next place to look.
 */
export function logTailHint(pkg: string, pm2Home: string, place: LogTailPlace, logFile?: string): string {
  // a candidate's lines are in its own PM2 log file, which `opsctl logs` does not read (it shows the live instances)
  const more = logFile ? `its whole log is ${logFile}.` : `\`opsctl logs ${pkg}\` shows more.`;
  if (place === 'above') return `Its last log lines are shown above; ${more}`;
  if (place === 'logTail') return `Its last log lines are in the failed step's logTail; ${more}`;
  if (place === 'message') return more;
  return `It wrote no log lines; PM2's own log (${join(pm2Home, 'pm2.log')}) may say why, and \`opsctl logs ${pkg}\` shows any written since.`;
}

/**
 * A release that did not start or pass its health gate, with its last log lines (redacted, naming source files):
 * deploy reports them on the failed step (`logTail`) and prints them before the error.
 */
export class LaunchFailure extends OpsError {
  readonly logTail: string[];
  /** The hint for a JSON document, where the lines are the failed step's `logTail`. */
  readonly jsonHint: string;

  constructor(
    pkg: string,
    message: string,
    logTail: string[],
    pm2Home: string,
    layout: SourceLayout,
    /** The log file holding the lines, when `opsctl logs <pkg>` does not read it (a candidate's). */
    logFile?: string,
  ) {
    super('HEALTH', sourcePathsIn(message, layout), {
      hint: logTailHint(pkg, pm2Home, logTail.length ? 'above' : 'none', logFile),
      exitCode: ExitCode.failed,
    });
    this.logTail = logTail;
    this.jsonHint = logTailHint(pkg, pm2Home, logTail.length ? 'logTail' : 'none', logFile);
  }
}

/** The log lines a failed step carries, when its error has any. */
export function logTailOf(error: unknown): string[] | undefined {
  return error instanceof LaunchFailure && error.logTail.length ? error.logTail : undefined;
}
