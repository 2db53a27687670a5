/**
 * Runs before every test file (vitest.config.ts `setupFiles`): the caller's environment must not reach opsctl or
 * the processes the tests start (README, "Set up"). A test that needs one of these sets it itself.
 */
const CLEARED = [
  /^PM2_HOME$/,
  /^DATABASE_URL$/,
  /^REDIS_URL$/,
  /^OPSCTL_(?!TEST_PG_URL$)/,
  /^NO_COLOR$/,
  /^FORCE_COLOR$/,
  /^GITHUB_ACTIONS$/, // opsctl announces secrets under GitHub Actions, on stderr
  /^npm_config_/i,
  /^PG[A-Z]+$/,
];

for (const name of Object.keys(process.env)) {
  if (CLEARED.some((pattern) => pattern.test(name))) delete process.env[name];
}
