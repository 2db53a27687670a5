import type { CheckContext } from '../../src/checks/types.js';
import type { ResolvedConfig } from '../../src/config/types.js';
import type { AppPackage } from '../../src/packages/types.js';
import { createRunner, type Runner } from '../../src/process/runner.js';

/** A doctor check's context for tests: a real runner unless one is given, never aborted. */
export function checkContext(
  config: Partial<ResolvedConfig> = {},
  options: { runner?: Runner; timeoutMs?: number } = {},
): CheckContext {
  return {
    config: config as ResolvedConfig,
    runner: options.runner ?? createRunner(),
    signal: new AbortController().signal,
    timeoutMs: options.timeoutMs ?? 3000,
    now: () => new Date(),
  };
}

/** An AppPackage with nothing configured but what the test gives. */
export function appPackage(fields: Partial<AppPackage> & Pick<AppPackage, 'name'>): AppPackage {
  return {
    dir: '/tmp',
    path: fields.name,
    scripts: {},
    dependencies: {},
    devDependencies: {},
    dependsOn: [],
    env: {},
    outputs: [],
    ...fields,
  };
}
