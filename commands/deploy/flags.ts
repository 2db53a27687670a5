import type { DeployOptions } from '../../src/deploy/types.js';
import type { GlobalOptions } from '../shared/context.js';

/** `opsctl deploy`'s flags (commands/deploy/index.ts). */
export interface DeployFlags extends GlobalOptions {
  skipInstall?: boolean;
  skipBuild?: boolean;
  skipMigrate?: boolean;
  start?: boolean;
  force?: boolean;
  foreground?: boolean;
  allowDirty?: boolean;
  rollback?: boolean;
  healthTimeout: number;
  /** `--target <name>`: roll over the target's hosts (README, "Several hosts"). */
  target?: string;
}

/** The deploy options the flags ask for (the local deploy and the build step of `--target`). */
export function deployOptions(flags: DeployFlags): DeployOptions {
  return {
    force: flags.force,
    skipInstall: flags.skipInstall,
    skipBuild: flags.skipBuild,
    skipMigrate: flags.skipMigrate,
    noStart: flags.start === false || flags.foreground,
    dryRun: flags.dryRun,
    healthTimeoutMs: flags.healthTimeout,
    concurrency: flags.concurrency,
  };
}
