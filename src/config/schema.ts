import { z } from 'zod';

const packageName = z.string().regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, ".", "_" or "-"');

export const packageSchema = z
  .object({
    path: z.string().optional().describe('Folder of the package, relative to the app root (default: the key)'),
    port: z.number().int().min(1).max(65535).optional().describe('Port the package listens on'),
    health: z.string().optional().describe('HTTP path answering 2xx when healthy, or "tcp"'),
    debugPort: z.number().int().min(1).max(65535).optional(),
    instances: z.union([z.number().int().min(1), z.literal('max')]).optional(),
    dependsOn: z.array(packageName).optional(),
    env: z.record(z.string(), z.string()).optional(),
    outputs: z.array(z.string()).optional().describe('Build outputs (default dist, build)'),
  })
  .strict();

const databaseSchema = z
  .object({
    url: z.string().optional().describe('postgres:// URL; defaults to $DATABASE_URL, else the embedded database'),
    migrations: z.string().optional().describe('Migrations folder'),
    table: z.string().optional().describe('Migration state table (default opsctl_migrations)'),
    schema: z.string().optional().describe('Schema of the state table (default public)'),
  })
  .strict();

const redisSchema = z.object({ url: z.string().optional() }).strict();

const auditSchema = z
  .object({
    level: z.enum(['low', 'moderate', 'high', 'critical']).optional(),
    ignore: z
      .array(
        z
          .object({
            id: z.string(),
            reason: z.string().min(1),
            expires: z
              .union([z.string(), z.date()])
              .transform((v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v)),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

const baseShape = {
  packages: z.record(packageName, packageSchema).optional(),
  database: databaseSchema.optional(),
  redis: redisSchema.optional(),
  logs: z.array(z.string()).optional().describe('Log file globs scanned by doctor'),
  audit: auditSchema.optional(),
  pipelines: z.record(z.string(), z.array(z.string())).optional(),
  doctor: z
    .object({ timeout: z.number().int().positive().optional(), skip: z.array(z.string()).optional() })
    .strict()
    .optional(),
};

/** One `environments.<name>` overlay: anything of the top level but `environments`. */
const environmentSchema = z.object(baseShape).strict();

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    ...baseShape,
    environments: z.record(z.string(), environmentSchema).optional(),
  })
  .strict();

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type PackageConfig = z.output<typeof packageSchema>;

/** The JSON Schema printed by `opsctl config schema`. */
export function configJsonSchema(): object {
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'opsctl config',
  };
}
