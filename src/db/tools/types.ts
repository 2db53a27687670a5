import type pg from 'pg';
import type { MIGRATION_TOOLS } from '../../config/schema.js';
import type { MigrationStatus } from '../migrate/plan.js';

/** The migration tools opsctl can drive (README, "Apps with their own migration tool"): `database.tool`'s values. */
export type ToolId = (typeof MIGRATION_TOOLS)[number];
export type AppToolId = Exclude<ToolId, 'opsctl'>;

/** What a package's files say about a tool (no database involved). */
export interface FileEvidence {
  /** Human-readable reasons, e.g. `knex in dependencies`, `knexfile.js`, `"migrate" script runs umzug`. */
  reasons: string[];
  /** The migrations folder (absolute), when the tool's config names one or its default exists. */
  migrationsDir?: string;
  /** The state table the tool's config names, when it overrides the tool's default. */
  table?: string;
}

/** The tool chosen for one package, and why (shown by `config show` and `migrate status`). */
export interface ToolChoice {
  tool: AppToolId;
  /** Config name of the package that owns the migrations, and its folder (absolute). */
  pkg: string;
  dir: string;
  /** Why: file evidence, `database.tool` in the config, state table found. */
  reasons: string[];
  migrationsDir?: string;
  /** The state table, possibly schema-qualified (`public.knex_migrations`). */
  table: string;
  /** Added by tools-core: NODE_ENV the tool will run with (the package's environment), for tools whose config has sections per environment. */
  nodeEnv?: string;
}

export type ToolAction =
  | { kind: 'up'; to?: string; step?: number }
  | { kind: 'down'; to?: string; step?: number; all?: boolean };

/** A command opsctl runs for the tool: no shell; `file` is absolute (a bin in the package's node_modules, or npm). */
export interface ToolCommand {
  file: string;
  args: string[];
  /** Added by tools-core: the environment variable the tool reads the database URL from (default DATABASE_URL). */
  urlEnv?: string;
  /** Added by tools-core: a flag run.ts appends with the database URL as its value (sequelize-cli `--url`). */
  urlFlag?: string;
}

/** One adapter per app tool, in src/db/tools/<tool>.ts. */
export interface ToolAdapter {
  id: AppToolId;
  /** The tool's default state table. */
  defaultTable: string;
  /** Evidence from the package's manifest and files; undefined when nothing points at this tool. */
  detect(dir: string, manifest: Record<string, unknown>): FileEvidence | undefined;
  /**
   * Status from the tool's own state table (a missing table = nothing executed), matched against the files in
   * the tool's naming. `executed[].name`, `pending`, `missing` use the migration's name as the tool shows it.
   */
  readStatus(client: pg.Client, choice: ToolChoice): Promise<MigrationStatus>;
  /** The command for an action; throws a usage OpsError (exit 2) for options the tool does not support. */
  command(choice: ToolChoice, action: ToolAction): ToolCommand;
  /** Whether the tool runs each migration in its own transaction (said in failure messages and the README). */
  transactional: 'each' | 'all' | 'none' | 'configurable';
  /**
   * Added by tools-core: write a new migration in the tool's convention (`migrate create`); absent = opsctl
   * refuses with a usage error naming the tool's own generator.
   */
  create?(choice: ToolChoice, name: string): { name: string; path: string };
}

/**
 * What an adapter's `readStatus` may report beyond `MigrationStatus` (added for the knex, node-pg-migrate, TypeORM
 * and Prisma adapters; all optional, so a plain `MigrationStatus` is a `ToolStatus`).
 */
export interface ToolStatus extends MigrationStatus {
  /** Migrations the tool recorded as started but never finished (Prisma's failed rows); each is also in `pending`. */
  failed?: string[];
  /** What the operator must know that is no migration, e.g. knex's lock table left locked by a crashed run. */
  warnings?: string[];
}
