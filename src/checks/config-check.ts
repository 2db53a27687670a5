import { basename } from 'node:path';
import { errorMessage, isOpsError } from '../errors.js';
import { orderPackages } from '../graph/package-graph.js';
import type { Check } from './types.js';

/** The config loaded (a broken one stops doctor earlier with exit 2); report what was found. */
export const configCheck: Check = {
  id: 'config',
  async run({ config }) {
    const source = config.file ? basename(config.file) : 'zero config';
    const names = config.packages.map((p) => p.name);
    if (!names.length) {
      return {
        status: 'fail',
        message: `${source}: no packages found in ${config.root}`,
        hint: 'Run opsctl in the app root (or pass --cwd), or list packages in opsctl.config.yaml.',
      };
    }
    try {
      orderPackages(config.packages, source); // loading refuses a cycle too; a config built in code may not
    } catch (error) {
      return { status: 'fail', message: errorMessage(error), hint: isOpsError(error) ? error.hint : undefined };
    }
    const message = `${source}; ${names.length} package${names.length > 1 ? 's' : ''}: ${names.join(', ')}`;
    if (config.warnings.length) {
      return {
        status: 'warn',
        message: `${message}; ${config.warnings[0]}`,
        hint: 'Set the variable or give a default with ${VAR:-value}.',
        details: config.warnings,
      };
    }
    return { status: 'pass', message };
  },
};
