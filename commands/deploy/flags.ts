import type { GlobalOptions } from '../shared/context.js';

/** `opsctl deploy`'s flags (commands/deploy/index.ts). */
export interface DeployFlags extends GlobalOptions {
  skipInstall?: boolean;
  skipBuild?: boolean;
  skipMigrate?: boolean;
  start?: boolean;
  force?: boolean;
  foreground?: boolean;
  healthTimeout: number;
  /** `--target <name>`: roll over the target's hosts (README, "Several hosts"). */
  target?: string;
}
