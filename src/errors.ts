/** Exit codes shared by every command (README, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  findings: 1,
  usage: 2,
  failed: 3,
  unreachable: 4,
  locked: 5,
  /** `opsctl debug` whose terminal went away (SIGHUP): 128 + 1, as a shell reports it (README, "`opsctl debug`"). */
  hangup: 129,
  interrupted: 130,
  /** `deploy --foreground` stopped by SIGTERM (README, "`opsctl deploy`"). */
  terminated: 143,
} as const;

/** One of the codes above; an OpsError can carry no other. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface OpsErrorOptions {
  hint?: string;
  exitCode?: ExitCodeValue;
  cause?: unknown;
  /** Fields for the `--json` document's `error`, beside `code`, `message` and `hint` (a lock's `holder`). */
  details?: Record<string, unknown>;
}

/**
 * An expected, explainable failure: `message` says what happened, `hint` what to do.
 * The CLI prints it as `✖ message` / `→ hint` and exits with `exitCode` (default 3).
 */
export class OpsError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: ExitCodeValue;
  readonly details?: Record<string, unknown>;

  constructor(code: string, message: string, options: OpsErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = 'OpsError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
    this.details = options.details;
  }
}

export function isOpsError(err: unknown): err is OpsError {
  return err instanceof OpsError;
}

/** A configuration problem: always exit 2 and always names the file and key path. */
export function configError(message: string, hint?: string, cause?: unknown): OpsError {
  return new OpsError('CONFIG', message, { hint, exitCode: ExitCode.usage, cause });
}

export function usageError(message: string, hint?: string): OpsError {
  return new OpsError('USAGE', message, { hint, exitCode: ExitCode.usage });
}

export function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && !err.message) {
    const code = (err as { code?: string }).code;
    const first = err.errors[0];
    return code ?? (first instanceof Error ? first.message : 'multiple errors');
  }
  return err instanceof Error ? err.message : String(err);
}
