import { createHash } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import type pg from 'pg';
import { usageError } from '../../errors.js';
import { firstExisting, isDirectory, listDirs, readText, requireBin } from './app-files.js';
import { writeMigrationFile } from './create-file.js';
import { sequelizeTimestamp } from './sequelize-meta.js';
import { dependsOn } from './state.js';
import { isoTime, readRows } from './state-table.js';
import type { FileEvidence, ToolAdapter, ToolChoice, ToolCommand, ToolStatus } from './types.js';

interface PrismaRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  started_at: Date;
}

/** Where Prisma looks for its schema when `--schema` is not given (the `prisma.schema` manifest key first). */
function findSchema(dir: string, manifest: Record<string, unknown>): string | undefined {
  const configured = (manifest.prisma as { schema?: unknown } | undefined)?.schema;
  if (typeof configured === 'string') return resolve(dir, configured);
  // a multi-file schema is a folder (prisma/schema/*.prisma); migrations sit beside it either way
  return firstExisting(dir, ['prisma/schema.prisma', 'schema.prisma', 'prisma/schema']);
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * Prisma's checksum check (prisma-engines, schema-connector/src/checksum.rs `script_matches_checksum`): the
 * SHA-256 of migration.sql as hex, accepted with either line ending, and in the unpadded hex an older engine wrote.
 */
export function matchesPrismaChecksum(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll('\r\n', '\n'), script.replaceAll('\n', '\r\n')].map(sha256);
  return variants.some((digest) =>
    checksum.length === 64
      ? digest.toString('hex') === checksum
      : [...digest].map((b) => b.toString(16)).join('') === checksum,
  );
}

/**
 * Prisma: state in `_prisma_migrations` (README, "Prisma"). Status only from the table and the folders
 * (`prisma/migrations/<name>/migration.sql`); running needs Prisma's engines, which `prisma migrate deploy` fetches.
 */
export const prismaAdapter: ToolAdapter = {
  id: 'prisma',
  defaultTable: '_prisma_migrations',
  // Prisma opens no transaction around a migration: a failed one stays recorded as failed (finished_at null) and
  // blocks `migrate deploy` until `prisma migrate resolve` (Prisma docs, "Patching & hotfixing")
  transactional: 'none',

  detect(dir, manifest): FileEvidence | undefined {
    const reasons: string[] = [];
    for (const dep of ['prisma', '@prisma/client'])
      if (dependsOn(manifest, dep)) reasons.push(`${dep} in dependencies`);
    const config = firstExisting(dir, ['prisma.config.ts', 'prisma.config.mjs', 'prisma.config.js']);
    if (config) reasons.push(relative(dir, config));
    const schema = findSchema(dir, manifest);
    if (schema) reasons.push(relative(dir, schema));
    if (!reasons.length) return undefined;
    // beside the schema file; a multi-file schema folder may hold it inside or beside (Prisma versions differ)
    const beside = join(schema ? resolve(schema, '..') : join(dir, 'prisma'), 'migrations');
    const inside = schema && isDirectory(schema) ? join(schema, 'migrations') : undefined;
    const migrationsDir = inside && isDirectory(inside) ? inside : beside;
    if (isDirectory(migrationsDir)) reasons.push(relative(dir, migrationsDir));
    return { reasons, migrationsDir };
  },

  async readStatus(client: pg.Client, choice: ToolChoice): Promise<ToolStatus> {
    const dir = choice.migrationsDir ?? join(choice.dir, 'prisma', 'migrations');
    const scripts = new Map(
      listDirs(dir)
        .map((name) => [name, readText(join(dir, name, 'migration.sql'))] as const)
        .filter((e): e is [string, string] => e[1] !== undefined),
    );
    const rows = await readRows<PrismaRow>(
      client,
      choice.table,
      'migration_name, checksum, finished_at, rolled_back_at, started_at',
      'order by migration_name, started_at',
    );
    // a rolled-back row is history only: `prisma migrate resolve --rolled-back` makes the migration pending again
    const live = rows.filter((r) => !r.rolled_back_at);
    const done = live.filter((r) => r.finished_at);
    const doneNames = new Set(done.map((r) => r.migration_name));
    const failed = [...new Set(live.filter((r) => !r.finished_at).map((r) => r.migration_name))].filter(
      (n) => !doneNames.has(n),
    );
    return {
      executed: done.map((r) => ({ name: r.migration_name, appliedAt: isoTime(r.finished_at) })),
      pending: [...scripts.keys()].filter((n) => !doneNames.has(n)),
      drifted: done
        .filter(
          (r) => scripts.has(r.migration_name) && !matchesPrismaChecksum(scripts.get(r.migration_name)!, r.checksum),
        )
        .map((r) => r.migration_name),
      missing: done.filter((r) => !scripts.has(r.migration_name)).map((r) => r.migration_name),
      ...(failed.length
        ? {
            failed,
            warnings: [
              `Prisma recorded ${failed.join(', ')} as failed: \`prisma migrate deploy\` refuses to run until it is resolved (\`npx prisma migrate resolve --rolled-back <name>\` after fixing the database, or \`--applied\`).`,
            ],
          }
        : {}),
    };
  },

  command(choice, action): ToolCommand {
    if (action.kind === 'down') {
      throw usageError(
        'Prisma has no rollback: `prisma migrate` only applies migrations.',
        'Write a new migration that undoes the change and deploy it (`opsctl migrate`), or see `prisma migrate resolve` for a failed one.',
      );
    }
    if (action.to !== undefined || action.step !== undefined) {
      throw usageError(
        `prisma migrate deploy applies every pending migration: --${action.to !== undefined ? 'to' : 'step'} is not supported for Prisma.`,
        'Run it without --to/--step.',
      );
    }
    // no --schema: Prisma finds its schema (and prisma.config.ts) itself, as when the app runs it
    return { file: requireBin(choice.dir, 'prisma', 'prisma'), args: ['migrate', 'deploy'] };
  },

  /**
   * `prisma/migrations/<YYYYMMDDHHMMSS>_<name>/migration.sql` (UTC), empty as `prisma migrate dev --create-only`
   * writes it when the schema has not changed (that command needs Prisma's engines; this does not).
   */
  create(choice, name) {
    const dir = choice.migrationsDir ?? join(choice.dir, 'prisma', 'migrations');
    const folder = `${sequelizeTimestamp()}_${name}`;
    return {
      name: folder,
      path: writeMigrationFile(dir, join(folder, 'migration.sql'), '-- This is an empty migration.\n'),
    };
  },
};
