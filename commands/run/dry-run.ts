/**
 * The commands a pipeline runs under `--dry-run` (README, "Pipelines"): those that honour it and those that only read.
 * Any other (start, stop, restart, scale, db start, migrate create...) ignores the option, so the step is skipped: a
 * dry run of a pipeline changes nothing. A new command is skipped until it is added here.
 */
const DRY_RUN_SAFE = new Set([
  'doctor',
  'config show',
  'config schema',
  'status',
  'logs',
  'outdated',
  'audit',
  'migrate status',
  'db status',
  'db url',
  'completion',
  // these honour --dry-run
  'deploy',
  'migrate up',
  'migrate down',
  'rollback',
  'update',
  'init',
]);

/** Whether a step's command (its names from the top, `migrate create`) may run under --dry-run. */
export function runsUnderDryRun(command: string): boolean {
  return DRY_RUN_SAFE.has(command);
}
