import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import type pg from 'pg';
import { usageError } from '../../errors.js';
import { firstExisting, listFiles, readText, requireBin } from './app-files.js';
import { pascalCase, writeMigrationFile } from './create-file.js';
import { loadAppModule } from './load-module.js';
import { dependsOn, readManifest, scriptsOf } from './state.js';
import { readRows } from './state-table.js';
import type { FileEvidence, ToolAdapter, ToolChoice, ToolCommand, ToolStatus } from './types.js';

const DATA_SOURCES = [
  'data-source',
  'src/data-source',
  'src/db/data-source',
  'src/database/data-source',
  'db/data-source',
].flatMap((base) => ['ts', 'js', 'mjs', 'cjs'].map((ext) => `${base}.${ext}`));
/** The files TypeORM imports as migrations (TypeORM, util/ImportUtils: importClassesFromDirectories). */
const MIGRATION_FILE = /\.[mc]?[jt]s$/;

/** What the data source says about migrations, and the file it came from. */
interface TypeormSettings {
  dataSource?: string;
  /** Glob patterns from `migrations` (class entries cannot be mapped to files and are left out). */
  globs: string[];
  table: string;
  error?: string;
}

// runs in the child (loadAppModule): the export TypeORM's CLI would take (an object with DataSource `options`)
const PICK = `(mod) => {
  const candidates = [mod.default, ...Object.values(mod), ...Object.values(mod.default ?? {})];
  const ds = candidates.find((v) => v && typeof v === 'object' && v.options && typeof v.options === 'object' && 'type' in v.options);
  if (!ds) throw new Error('no DataSource export');
  const o = ds.options;
  return { migrations: [o.migrations ?? []].flat().filter((m) => typeof m === 'string'), table: o.migrationsTableName, schema: o.schema };
}`;

const cache = new Map<string, TypeormSettings>();

/** The data source file: the `-d`/`--dataSource` of a script that runs typeorm, else a usual location. */
function findDataSource(dir: string, manifest: Record<string, unknown>): string | undefined {
  for (const line of Object.values(scriptsOf(manifest))) {
    if (!/\btypeorm/.test(line)) continue;
    const match = /(?:^|\s)(?:-d|--dataSource|--data-source)[\s=]+["']?([^\s"']+)/.exec(line);
    if (match?.[1]) return resolve(dir, match[1]);
  }
  return firstExisting(dir, DATA_SOURCES);
}

export function readTypeormSettings(dir: string, manifest = readManifest(dir)): TypeormSettings {
  const dataSource = findDataSource(dir, manifest);
  if (!dataSource || readText(dataSource) === undefined) return { dataSource, globs: [], table: 'migrations' };
  const key = `${dataSource}:${statSync(dataSource).mtimeMs}`;
  const cached = cache.get(key);
  if (cached) return cached;
  const loaded = loadAppModule(dataSource, PICK);
  const value = (loaded.value ?? {}) as { migrations?: string[]; table?: string; schema?: string };
  const table = value.table ?? 'migrations';
  const settings: TypeormSettings = {
    dataSource,
    globs: value.migrations ?? [],
    table: value.schema ? `${value.schema}.${table}` : table,
    error: loaded.error,
  };
  cache.set(key, settings);
  return settings;
}

/**
 * The name TypeORM records for a migration file: the class's `name` property, else the class name
 * (TypeORM, migration/MigrationExecutor: `migration.name ?? migration.constructor.name`), read from the source
 * (loading it would run app code); else the name its generator gives `<timestamp>-<Name>.ts` (`<Name><timestamp>`).
 */
export function typeormMigrationName(path: string): string {
  const text = readText(path) ?? '';
  const property = /\bname\s*=\s*["'`](\w+)["'`]/.exec(text)?.[1];
  if (property) return property;
  const cls = /\bclass\s+(\w*\d{13})\b/.exec(text)?.[1];
  if (cls) return cls;
  const file = /^(\d{13})-(.+)$/.exec(basename(path).replace(MIGRATION_FILE, ''));
  return file ? `${file[2]}${file[1]}` : basename(path).replace(MIGRATION_FILE, '');
}

/** The migration files, absolute: the data source's globs (relative to the package, where the CLI runs). */
function migrationFiles(choice: ToolChoice, settings: TypeormSettings): string[] {
  // tinyglobby is loaded only here: every command loads the adapters, few read TypeORM's status
  const { globSync } = createRequire(import.meta.url)('tinyglobby') as typeof import('tinyglobby');
  const files = settings.globs.length
    ? globSync(settings.globs, { cwd: choice.dir, absolute: true })
    : choice.migrationsDir
      ? listFiles(choice.migrationsDir).map((f) => join(choice.migrationsDir!, f))
      : [];
  return files.filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts')).sort();
}

/** The folder of a glob, for messages (`src/migrations/*.ts` → src/migrations). */
function globFolder(dir: string, glob: string): string {
  const parts = glob.split('/');
  const index = parts.findIndex((p) => /[*?{[]/.test(p));
  const folder = (index < 0 ? parts.slice(0, -1) : parts.slice(0, index)).join('/') || '.';
  return isAbsolute(folder) ? folder : resolve(dir, folder);
}

/** TypeORM: state in `migrations` (timestamp, name = class name like `CreateUser1700000000000`) (README, "TypeORM"). */
export const typeormAdapter: ToolAdapter = {
  id: 'typeorm',
  defaultTable: 'migrations',
  // `migration:run` wraps all pending migrations in one transaction unless the data source's
  // migrationsTransactionMode (or --transaction) says each/none (TypeORM, commands/MigrationRunCommand)
  transactional: 'all',

  detect(dir, manifest): FileEvidence | undefined {
    const reasons = dependsOn(manifest, 'typeorm') ? ['typeorm in dependencies'] : [];
    const settings = readTypeormSettings(dir, manifest);
    if (settings.dataSource && readText(settings.dataSource) !== undefined)
      reasons.push(`data source ${relative(dir, settings.dataSource)}`);
    const ormconfig = firstExisting(dir, ['ormconfig.json', 'ormconfig.js', 'ormconfig.ts', 'ormconfig.yml']);
    if (ormconfig)
      reasons.push(`${basename(ormconfig)} (TypeORM 0.2's config; the CLI since 0.3 needs a data source file)`);
    if (!reasons.length) return undefined;
    if (settings.error) reasons.push(`the data source could not be loaded (${settings.error})`);
    return {
      reasons,
      ...(settings.globs[0] ? { migrationsDir: globFolder(dir, settings.globs[0]) } : {}),
      ...(settings.table !== 'migrations' ? { table: settings.table } : {}),
    };
  },

  async readStatus(client: pg.Client, choice: ToolChoice): Promise<ToolStatus> {
    const settings = readTypeormSettings(choice.dir);
    const names = [...new Set(migrationFiles(choice, settings).map(typeormMigrationName))].sort(byTimestamp);
    const rows = await readRows<{ name: string }>(client, choice.table, 'name', 'order by timestamp, id');
    const applied = new Set(rows.map((r) => r.name));
    const known = new Set(names);
    return {
      // TypeORM records no time a migration ran (its `timestamp` column is the one in the class name)
      executed: rows.map((r) => ({ name: r.name, appliedAt: '' })),
      pending: names.filter((n) => !applied.has(n)),
      drifted: [], // TypeORM records no checksum
      missing: rows.filter((r) => !known.has(r.name)).map((r) => r.name),
    };
  },

  command(choice, action): ToolCommand {
    if (action.kind === 'up' && (action.to !== undefined || action.step !== undefined)) {
      throw usageError(
        `typeorm migration:run applies every pending migration: --${action.to !== undefined ? 'to' : 'step'} is not supported for TypeORM.`,
        'Run it without --to/--step.',
      );
    }
    if (action.kind === 'down' && (action.all || action.to !== undefined || (action.step ?? 1) !== 1)) {
      throw usageError(
        'typeorm migration:revert reverts one migration at a time: --all, --to and --step above 1 are not supported for TypeORM.',
        'Run `opsctl rollback` once per migration to revert.',
      );
    }
    const manifest = readManifest(choice.dir);
    const settings = readTypeormSettings(choice.dir, manifest);
    if (!settings.dataSource || readText(settings.dataSource) === undefined) {
      throw usageError(
        `typeorm: no data source file found in ${choice.dir} (looked for a typeorm script's -d, and ${DATA_SOURCES.slice(0, 2).join(', ')}, …).`,
        'Add a script that runs `typeorm migration:run -d <data source file>`, so opsctl knows the file.',
      );
    }
    // a TypeScript data source needs TypeORM's ts-node entry (ts-node installed in the app)
    const ts = /\.[mc]?ts$/.test(settings.dataSource);
    const bin = !ts ? 'typeorm' : manifest.type === 'module' ? 'typeorm-ts-node-esm' : 'typeorm-ts-node-commonjs';
    const file = requireBin(choice.dir, bin, 'typeorm');
    const verb = action.kind === 'up' ? 'migration:run' : 'migration:revert';
    return { file, args: [verb, '-d', settings.dataSource] };
  },

  /** `<ms timestamp>-<Name>.ts|js` holding class `<Name><timestamp>`, what `typeorm migration:create` writes. */
  create(choice, name) {
    const settings = readTypeormSettings(choice.dir);
    const dir = choice.migrationsDir ?? resolve(choice.dir, 'src/migrations');
    const ts = settings.dataSource ? /\.[mc]?ts$/.test(settings.dataSource) : false;
    const stamp = Date.now();
    const cls = `${pascalCase(name)}${stamp}`;
    const file = `${stamp}-${pascalCase(name)}.${ts ? 'ts' : 'js'}`;
    return { name: cls, path: writeMigrationFile(dir, file, ts ? tsTemplate(cls) : jsTemplate(cls)) };
  },
};

function byTimestamp(a: string, b: string): number {
  return a.slice(-13).localeCompare(b.slice(-13)) || a.localeCompare(b);
}

/** TypeORM's migration:create templates (TypeORM, commands/MigrationCreateCommand). */
function tsTemplate(cls: string): string {
  return `import { MigrationInterface, QueryRunner } from "typeorm";

export class ${cls} implements MigrationInterface {
    public async up(queryRunner: QueryRunner): Promise<void> {
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
    }
}
`;
}

function jsTemplate(cls: string): string {
  return `/**
 * @typedef {import('typeorm').MigrationInterface} MigrationInterface
 * @typedef {import('typeorm').QueryRunner} QueryRunner
 */

/**
 * @class
 * @implements {MigrationInterface}
 */
module.exports = class ${cls} {
    /**
     * @param {QueryRunner} queryRunner
     */
    async up(queryRunner) {
    }

    /**
     * @param {QueryRunner} queryRunner
     */
    async down(queryRunner) {
    }
};
`;
}
