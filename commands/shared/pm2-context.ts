import type { ResolvedConfig } from '../../src/config/types.js';
import { selectPackages } from '../../src/packages/discover.js';
import type { AppPackage } from '../../src/packages/types.js';
import { createPm2, type Pm2 } from '../../src/pm2/cli.js';
import { pm2Home } from '../../src/pm2/home.js';
import type { Cli } from './context.js';

/** The PM2 of this app (its home under `.opsctl/pm2` unless PM2_HOME is set). */
export function appPm2(cli: Cli, config: ResolvedConfig): Pm2 {
  return createPm2(cli.runner, pm2Home(config.root, config.env), config.root);
}

/** The packages named as positional arguments (comma lists too); unknown names are a usage error (exit 2). */
export function namedPackages(config: ResolvedConfig, names: string[]): AppPackage[] {
  const list = names.flatMap((n) => n.split(',')).filter(Boolean);
  return selectPackages(config.packages, list.length ? list : undefined, config.appPackages);
}
