import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage, OpsError } from '../../errors.js';

/** What a migration receives: the umzug convention `{ context: { client } }` with a connected `pg` client. */
export interface MigrationContext {
  client: import('pg').Client;
}

/** A migration step as called by umzug. */
export type MigrationStep = (params: { name: string; path?: string; context: MigrationContext }) => Promise<unknown>;

/** The parts of a JS/TS migration module opsctl uses. */
export interface LoadedModule {
  up: MigrationStep;
  down?: MigrationStep;
  /** `export const transaction = false` runs the migration outside a transaction. */
  transaction: boolean;
}

type Exports = { up?: unknown; down?: unknown; transaction?: unknown; default?: unknown };

/** Import a `.js`/`.cjs`/`.mjs` module, or a `.ts` one through tsx (no build step needed). */
async function importFile(path: string): Promise<Exports> {
  if (/\.[mc]?ts$/.test(path)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(pathToFileURL(path).href, import.meta.url)) as Exports;
  }
  return (await import(pathToFileURL(path).href)) as Exports;
}

/** Load a migration module and verify it exports `up` (and `down`, if anything, as a function). */
export async function loadMigrationModule(path: string): Promise<LoadedModule> {
  let mod: Exports;
  try {
    mod = await importFile(path);
  } catch (err) {
    throw new OpsError('MIGRATION_LOAD', `${basename(path)} could not be loaded: ${errorMessage(err)}`, {
      hint: 'Fix the module so it can be imported (run it with `node` to see the full error); nothing was applied.',
      exitCode: 3,
      cause: err,
    });
  }
  // CommonJS modules arrive as `default` when imported from ESM
  const exports = (typeof mod.up === 'function' ? mod : ((mod.default as Exports | undefined) ?? mod)) as Exports;
  if (typeof exports.up !== 'function') {
    throw new OpsError('MIGRATION_INVALID', `${basename(path)} does not export an \`up\` function.`, {
      hint: 'Export `async function up({ context: { client } })` (and `down`); nothing was applied.',
      exitCode: 3,
    });
  }
  if (exports.down !== undefined && typeof exports.down !== 'function') {
    throw new OpsError('MIGRATION_INVALID', `${basename(path)} exports \`down\`, but it is not a function.`, {
      hint: 'Export `async function down({ context: { client } })`, or remove it.',
      exitCode: 3,
    });
  }
  return {
    up: exports.up as MigrationStep,
    down: exports.down as MigrationStep | undefined,
    transaction: (exports.transaction ?? mod.transaction) !== false,
  };
}
