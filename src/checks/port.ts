import type { AppPackage } from '../packages/types.js';
import type { Check } from './types.js';

// PLACEHOLDER: being written; replaced before this lands.
export function portCheck(pkg: AppPackage): Check {
  return { id: `port:${pkg.name}`, run: async () => ({ status: 'skip', message: 'not built yet' }) };
}
