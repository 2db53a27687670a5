import { extname, join, resolve } from 'node:path';
import type pg from 'pg';
import { usageError } from '../../errors.js';
import { listFiles, readText, requireBin } from './app-files.js';
import { writeMigrationFile } from './create-file.js';
import { dependsOn, readManifest, scriptsOf, statusFromNames } from './state.js';
import { readRows } from './state-table.js';
import type { FileEvidence, ToolAdapter, ToolChoice, ToolCommand, ToolStatus } from './types.js';

/** The settings node-pg-migrate's CLI would use, and where each came from. */
interface PgMigrateSettings {
  migrationsDir: string;
  table: string;
  reasons: string[];
}

/** node-pg-migrate's flags that name the folder and the table (node-pg-migrate, bin/node-pg-migrate.js). */
const FLAGS: Record<string, 'dir' | 'table' | 'schema'> = {
  '-m': 'dir',
  '--migrations-dir': 'dir',
  '-t': 'table',
  '--migrations-table': 'table',
  '--migrations-schema': 'schema',
};

/**
 * The folder and table from the package's `node-pg-migrate` scripts, else from `config/default.json`'s `db`
 * section (the `config` package node-pg-migrate reads), else its defaults (`migrations`, `pgmigrations`).
 * Scripts are shell lines: split on whitespace, enough for these flags (a quoted path with spaces is not read).
 */
export function readPgMigrateSettings(dir: string, manifest: Record<string, unknown>): PgMigrateSettings {
  const found: Partial<Record<'dir' | 'table' | 'schema', string>> = {};
  const reasons: string[] = [];
  for (const [name, line] of Object.entries(scriptsOf(manifest))) {
    if (!/\bnode-pg-migrate\b/.test(line)) continue;
    reasons.push(`"${name}" script runs node-pg-migrate`);
    const words = line.split(/\s+/);
    words.forEach((word, i) => {
      const [flag, inline] = word.split('=', 2) as [string, string | undefined];
      const key = FLAGS[flag];
      const value = inline ?? words[i + 1];
      if (key && value && !found[key]) found[key] = value.replace(/^['"]|['"]$/g, '');
    });
  }
  const config = readConfigSection(dir);
  if (config) reasons.push('config/default.json has a "db" section');
  const dirName = found.dir ?? config?.['migrations-dir'] ?? 'migrations';
  const table = found.table ?? config?.['migrations-table'] ?? 'pgmigrations';
  const schema = found.schema ?? config?.['migrations-schema'];
  return { migrationsDir: resolve(dir, dirName), table: schema ? `${schema}.${table}` : table, reasons };
}

function readConfigSection(dir: string): Record<string, string> | undefined {
  const text = readText(join(dir, 'config', 'default.json'));
  if (!text) return undefined;
  try {
    const db = (JSON.parse(text) as Record<string, unknown>).db;
    return db && typeof db === 'object' ? (db as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}

/** node-pg-migrate's order: by the numeric prefix, then by name (node-pg-migrate, compareMigrationFileNames). */
function byPrefix(a: string, b: string): number {
  const prefix = (s: string) => Number(/^\d+/.exec(s)?.[0] ?? Number.NaN);
  const diff = prefix(a) - prefix(b);
  return Number.isNaN(diff) || diff === 0 ? a.localeCompare(b, 'en', { numeric: true }) : diff;
}

/** Reverting "all": a count larger than any history (node-pg-migrate's `down` takes a count, not `--all`). */
const ALL = String(Number.MAX_SAFE_INTEGER);

/** node-pg-migrate: state in `pgmigrations` (name = file name without extension, run_on) (README, "node-pg-migrate"). */
export const nodePgMigrateAdapter: ToolAdapter = {
  id: 'node-pg-migrate',
  defaultTable: 'pgmigrations',
  // the CLI's --single-transaction defaults to true: one transaction around the whole run, broken only by a migration
  // that calls pgm.noTransaction() (node-pg-migrate, bin/node-pg-migrate.js and src/migration.ts)
  transactional: 'all',

  detect(dir, manifest): FileEvidence | undefined {
    const settings = readPgMigrateSettings(dir, manifest);
    const reasons = [...(dependsOn(manifest, 'node-pg-migrate') ? ['node-pg-migrate in dependencies'] : [])];
    reasons.push(...settings.reasons);
    if (!reasons.length) return undefined;
    return {
      reasons,
      migrationsDir: settings.migrationsDir,
      ...(settings.table !== 'pgmigrations' ? { table: settings.table } : {}),
    };
  },

  async readStatus(client: pg.Client, choice: ToolChoice): Promise<ToolStatus> {
    const dir = choice.migrationsDir ?? resolve(choice.dir, 'migrations');
    // node-pg-migrate skips dot files (its default --ignore-pattern) and names a migration by its file's base name
    const names = listFiles(dir)
      .filter((f) => !f.startsWith('.'))
      .map((f) => f.slice(0, f.length - extname(f).length))
      .sort(byPrefix);
    const rows = await readRows<{ name: string; run_on: Date }>(client, choice.table, 'name, run_on');
    // node-pg-migrate records no checksum: nothing can be drifted
    return statusFromNames(
      names,
      rows.map((r) => ({ name: r.name, appliedAt: r.run_on })),
    );
  },

  command(choice, action): ToolCommand {
    if (action.to !== undefined) {
      throw usageError(
        `node-pg-migrate cannot ${action.kind === 'up' ? 'migrate' : 'roll back'} to a named migration: its CLI runs only the migration it is given by name, not the ones before it.`,
        'Use --step <n> (node-pg-migrate up/down <n>).',
      );
    }
    const file = requireBin(choice.dir, 'node-pg-migrate', 'node-pg-migrate');
    const count = action.kind === 'down' && action.all ? [ALL] : action.step !== undefined ? [String(action.step)] : [];
    const dir = choice.migrationsDir ?? resolve(choice.dir, 'migrations');
    const dot = choice.table.indexOf('.');
    const table =
      dot < 0
        ? ['--migrations-table', choice.table]
        : ['--migrations-schema', choice.table.slice(0, dot), '--migrations-table', choice.table.slice(dot + 1)];
    return { file, args: [action.kind, ...count, '--migrations-dir', dir, ...table] };
  },

  /** `<ms timestamp>_<name>.js`, node-pg-migrate's default naming and template (ESM when the package is). */
  create(choice, name) {
    const dir = choice.migrationsDir ?? resolve(choice.dir, 'migrations');
    const esm = readManifest(choice.dir).type === 'module';
    const base = `${Date.now()}_${name.replace(/_/g, '-')}`;
    return { name: base, path: writeMigrationFile(dir, `${base}.js`, esm ? ESM_TEMPLATE : CJS_TEMPLATE) };
  },
};

/** node-pg-migrate's JS template (node-pg-migrate, templates/migration-template.js), in both module styles. */
const CJS_TEMPLATE = `/**
 * @type {import('node-pg-migrate').ColumnDefinitions | undefined}
 */
exports.shorthands = undefined;

/**
 * @param pgm {import('node-pg-migrate').MigrationBuilder}
 * @param run {() => void | undefined}
 * @returns {Promise<void> | void}
 */
exports.up = (pgm) => {};

/**
 * @param pgm {import('node-pg-migrate').MigrationBuilder}
 * @param run {() => void | undefined}
 * @returns {Promise<void> | void}
 */
exports.down = (pgm) => {};
`;

const ESM_TEMPLATE = CJS_TEMPLATE.replace(/exports\.(\w+) =/g, 'export const $1 =');
