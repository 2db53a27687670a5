import type pg from 'pg';
import { usageError } from '../../errors.js';
import { scriptsOf } from './state.js';
import type { ToolAdapter } from './types.js';
import { npmScript } from './umzug-sequelize.js';

/**
 * The package's own `migrate`/`rollback` scripts with a tool opsctl does not know: it runs them, but keeps no view of
 * their state (no table it can read), so status is empty and a run is judged by its exit code alone.
 */
export const scriptsTool: ToolAdapter = {
  id: 'scripts',
  defaultTable: '',
  transactional: 'configurable',
  detect(_dir, manifest) {
    const scripts = scriptsOf(manifest);
    // `opsctl migrate` in a script is opsctl's own engine, not an app tool
    if (!scripts.migrate || /\bopsctl\b/.test(scripts.migrate)) return undefined;
    return { reasons: [`"migrate" script: ${scripts.migrate}`] };
  },
  async readStatus(_client: pg.Client) {
    return { executed: [], pending: [], drifted: [], missing: [] };
  },
  command(choice, action) {
    const flag =
      action.to !== undefined
        ? '--to'
        : action.step !== undefined
          ? '--step'
          : action.kind === 'down' && action.all
            ? '--all'
            : undefined;
    if (flag)
      throw usageError(
        `${flag} is not supported for the "scripts" tool: opsctl runs the package's "migrate"/"rollback" scripts as they are.`,
        `Run without ${flag}, or run the tool yourself in ${choice.dir}.`,
      );
    return npmScript(choice, action.kind === 'up' ? 'migrate' : 'rollback');
  },
};
