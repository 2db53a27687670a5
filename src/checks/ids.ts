/**
 * doctor's check ids in report order, for `--only`/`--skip` and `doctor --help`; `port` stands for one
 * `port:<package>` check per package (README, "`opsctl doctor`").
 */
export const CHECK_IDS = [
  'config',
  'node-version',
  'dependencies',
  'env',
  'port',
  'postgres',
  'migrations',
  'encryption',
  'redis',
  'logs',
  'inspector',
  'processes',
] as const;

/** Each check's time limit when neither `--timeout` nor `doctor.timeout` in the config sets one. */
export const DEFAULT_CHECK_TIMEOUT_MS = 3_000;
