import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve } from 'node:path';
import type pg from 'pg';
import { usageError } from '../../errors.js';
import { firstExisting, listFiles, requireBin } from './app-files.js';
import { writeMigrationFile } from './create-file.js';
import { loadAppModule } from './load-module.js';
import { sequelizeTimestamp } from './sequelize-meta.js';
import { dependsOn, readManifest, scriptsOf } from './state.js';
import { isoTime, readRows } from './state-table.js';
import type { FileEvidence, ToolAdapter, ToolChoice, ToolCommand, ToolStatus } from './types.js';

const KNEXFILES = ['knexfile.js', 'knexfile.cjs', 'knexfile.mjs', 'knexfile.ts'];
/** knex's default `loadExtensions` (knex, lib/migrations/common/MigrationsLoader.js). */
const DEFAULT_EXTENSIONS = ['.co', '.coffee', '.eg', '.iced', '.js', '.cjs', '.litcoffee', '.ls', '.ts'];

/** The migrations part of the knexfile, for the environment the knex CLI picks (`NODE_ENV`, else development). */
interface KnexSettings {
  knexfile?: string;
  directories: string[];
  tableName: string;
  schemaName?: string;
  loadExtensions: string[];
  /** The knexfile could not be loaded (the defaults are used). */
  error?: string;
}

// runs in the child (loadAppModule): the same steps as the knex CLI's openKnexfile + resolveEnvironmentConfig
const PICK = `async (mod) => {
  let config = mod.default ?? mod;
  if (config && config.default) config = config.default;
  if (typeof config === 'function') config = await config();
  const env = process.env.NODE_ENV || 'development';
  const m = ((config && config[env]) || config || {}).migrations || {};
  return { directory: m.directory, tableName: m.tableName, schemaName: m.schemaName, loadExtensions: m.loadExtensions };
}`;

const cache = new Map<string, KnexSettings>();

/**
 * The package's knexfile: one of KNEXFILES in its folder, else the `--knexfile` a script running knex names
 * (scripts are split on whitespace, as for node-pg-migrate's flags: a quoted path with spaces is not read).
 */
function findKnexfile(dir: string): string | undefined {
  const found = firstExisting(dir, KNEXFILES);
  if (found) return found;
  for (const line of Object.values(scriptsOf(readManifest(dir)))) {
    const words = line.split(/\s+/);
    if (!words.some((w) => w === 'knex' || w.endsWith('/knex'))) continue;
    const at = words.findIndex((w) => w === '--knexfile' || w.startsWith('--knexfile='));
    const value = at < 0 ? undefined : words[at]!.includes('=') ? words[at]!.split('=')[1] : words[at + 1];
    const file = value ? resolve(dir, value) : undefined;
    if (file && existsSync(file)) return file;
  }
  return undefined;
}

export function readKnexSettings(dir: string): KnexSettings {
  const knexfile = findKnexfile(dir);
  const defaults: KnexSettings = {
    knexfile,
    directories: [resolve(dir, 'migrations')],
    tableName: 'knex_migrations',
    loadExtensions: DEFAULT_EXTENSIONS,
  };
  if (!knexfile) return defaults;
  const key = `${knexfile}:${statSync(knexfile).mtimeMs}:${process.env.NODE_ENV ?? ''}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const loaded = loadAppModule(knexfile, PICK);
  const m = (loaded.value ?? {}) as Record<string, unknown>;
  // the knex CLI changes into the knexfile's folder: relative directories are relative to it
  const base = dirname(knexfile);
  const dirs = [m.directory ?? 'migrations'].flat().filter((d): d is string => typeof d === 'string');
  const settings: KnexSettings = {
    knexfile,
    directories: dirs.map((d) => resolve(base, d)),
    tableName: typeof m.tableName === 'string' ? m.tableName : defaults.tableName,
    schemaName: typeof m.schemaName === 'string' ? m.schemaName : undefined,
    loadExtensions: Array.isArray(m.loadExtensions) ? (m.loadExtensions as string[]) : DEFAULT_EXTENSIONS,
    error: loaded.error,
  };
  cache.set(key, settings);
  return settings;
}

function stateTable(settings: KnexSettings): string {
  return settings.schemaName ? `${settings.schemaName}.${settings.tableName}` : settings.tableName;
}

/** knex: state in `knex_migrations` (name = file name with extension, batch, migration_time) (README, "knex"). */
export const knexAdapter: ToolAdapter = {
  id: 'knex',
  defaultTable: 'knex_migrations',
  // knex runs a whole `migrate:latest` batch in ONE transaction unless a migration sets `config.transaction = false`
  // (knex, lib/migrations/migrate/Migrator.js, `transactionForAll`)
  transactional: 'all',

  detect(dir, manifest): FileEvidence | undefined {
    // knex without a knexfile is a query builder: its CLI cannot migrate without one, so the migrations are not knex's
    const knexfile = findKnexfile(dir);
    if (!knexfile) return undefined;
    const reasons = dependsOn(manifest, 'knex') ? ['knex in dependencies'] : [];
    reasons.push(relative(dir, knexfile));
    const settings = readKnexSettings(dir);
    if (settings.error)
      reasons.push(`${basename(knexfile)} could not be loaded (${settings.error}): knex's defaults assumed`);
    const table = stateTable(settings);
    return {
      reasons,
      migrationsDir: settings.directories[0],
      ...(table !== 'knex_migrations' ? { table } : {}),
    };
  },

  async readStatus(client: pg.Client, choice: ToolChoice): Promise<ToolStatus> {
    const settings = readKnexSettings(choice.dir);
    const dirs = choice.migrationsDir ? [choice.migrationsDir] : settings.directories;
    const files = dirs
      .flatMap((d) => listFiles(d))
      .filter((f) => settings.loadExtensions.includes(extname(f)))
      .sort();
    const rows = await readRows<{ name: string; batch: number; migration_time: Date | null }>(
      client,
      choice.table,
      'name, batch, migration_time',
      'order by name',
    );
    const applied = new Set(rows.map((r) => r.name));
    const known = new Set(files);
    const locks = await readRows<{ is_locked: number }>(client, `${choice.table}_lock`, 'is_locked');
    const warnings = locks.some((l) => l.is_locked)
      ? [
          `${choice.table}_lock is locked: a knex run is in progress or crashed while holding it (knex refuses to migrate). If no knex runs, clear it with \`npx knex migrate:unlock\`.`,
        ]
      : [];
    return {
      executed: rows.map((r) => ({ name: r.name, appliedAt: isoTime(r.migration_time), batch: r.batch })),
      pending: files.filter((f) => !applied.has(f)),
      drifted: [], // knex records no checksum
      missing: rows.filter((r) => !known.has(r.name)).map((r) => r.name),
      ...(warnings.length ? { warnings } : {}),
    };
  },

  command(choice, action): ToolCommand {
    const settings = readKnexSettings(choice.dir);
    if (!settings.knexfile || !existsSync(settings.knexfile)) {
      throw usageError(
        `knex: no knexfile in ${choice.dir} (looked for ${KNEXFILES.join(', ')}).`,
        'The knex CLI needs one: add a knexfile that reads the database URL from DATABASE_URL.',
      );
    }
    const file = requireBin(choice.dir, 'knex', 'knex');
    const base = ['--knexfile', settings.knexfile];
    if (action.kind === 'up') {
      if (action.to !== undefined) return { file, args: [...base, 'migrate:to', action.to] };
      if (action.step === undefined) return { file, args: [...base, 'migrate:latest'] };
      if (action.step === 1) return { file, args: [...base, 'migrate:up'] };
      throw usageError(
        `knex cannot apply ${action.step} migrations at once: its CLI applies all (migrate:latest), the next one (migrate:up) or up to a name (migrate:to).`,
        'Use `--step 1`, `--to <name>`, or no option.',
      );
    }
    if (action.all) return { file, args: [...base, 'migrate:rollback', '--all'] };
    if (action.step === undefined && action.to === undefined) return { file, args: [...base, 'migrate:rollback'] };
    if (action.step === 1) return { file, args: [...base, 'migrate:down'] };
    throw usageError(
      `knex cannot roll back ${action.to !== undefined ? `to ${action.to}` : `${action.step} migrations`}: its CLI rolls back the last batch (migrate:rollback), everything (--all) or the last migration (migrate:down).`,
      'Use no option (the last batch), `--step 1` or `--all`.',
    );
  },

  /** `<YYYYMMDDHHMMSS>_<name>.js` (UTC) with knex's own stub (`.ts` when the knexfile is TypeScript). */
  create(choice, name) {
    const settings = readKnexSettings(choice.dir);
    const ts = settings.knexfile?.endsWith('.ts') ?? false;
    const file = `${sequelizeTimestamp()}_${name}.${ts ? 'ts' : 'js'}`;
    const dir = choice.migrationsDir ?? settings.directories[0]!;
    return { name: file, path: writeMigrationFile(dir, file, ts ? TS_STUB : JS_STUB) };
  },
};

/** knex's migration stubs (knex, lib/migrations/migrate/stub/js.stub and ts.stub). */
const JS_STUB = `/**
 * @param { import("knex").Knex } knex
 * @returns { Promise<void> }
 */
exports.up = function(knex) {

};

/**
 * @param { import("knex").Knex } knex
 * @returns { Promise<void> }
 */
exports.down = function(knex) {

};
`;

const TS_STUB = `import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
}

export async function down(knex: Knex): Promise<void> {
}
`;
