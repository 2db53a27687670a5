import type { ResolvedConfig } from '../../src/config/types.js';
import { usageError } from '../../src/errors.js';
import type { Cli } from '../shared/context.js';

export async function startDaemon(_cli: Cli, _config: ResolvedConfig): Promise<number> {
  throw usageError('--daemon is not available yet.');
}
