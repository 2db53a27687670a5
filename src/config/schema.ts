// zod/mini: the same validation as `zod` at a tenth of the code to load on every command (start-up matters).
import * as z from 'zod/mini';
import { targetsSchema } from './target-schema.js';

/** Attach a description (shown by editors through `opsctl config schema`). */
function doc<T extends z.ZodMiniType>(schema: T, description: string): T {
  z.globalRegistry.add(schema, { description });
  return schema;
}

const VARIABLE_PATTERN = '^\\$\\{[A-Za-z_][A-Za-z0-9_]*(:-[0-9]*)?\\}$';

/** Numeric fields that may be written as `${VAR}` / `${VAR:-4100}` (README, "Config"). */
const fromVariable = new WeakSet<z.core.$ZodType>();

/**
 * A whole number that may also arrive as a string of digits: interpolation yields strings, so
 * `port: ${PORT:-4100}` reaches the schema as "4100". Anything else still fails with the number's own message.
 */
function wholeNumber<T extends z.ZodMiniType>(schema: T) {
  const piped = z.pipe(
    z.transform((v: unknown) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v)),
    schema,
  );
  fromVariable.add(piped);
  return piped;
}

const port = () => wholeNumber(z.int().check(z.minimum(1), z.maximum(65535)));
const packageName = z.string().check(z.regex(/^[a-zA-Z0-9._-]+$/, 'letters, digits, ".", "_" or "-"'));
const strings = z.array(z.string());

export const packageSchema = z.strictObject({
  path: z.optional(doc(z.string(), 'Folder of the package, relative to the app root (default: the key)')),
  port: z.optional(doc(port(), 'Port the package listens on')),
  health: z.optional(doc(z.string(), 'HTTP path answering 2xx when healthy, or "tcp"')),
  debugPort: z.optional(doc(port(), 'Inspector port for `opsctl debug`')),
  instances: z.optional(z.union([wholeNumber(z.int().check(z.minimum(1))), z.literal('max')])),
  dependsOn: z.optional(z.array(packageName)),
  env: z.optional(z.record(z.string(), z.string())),
  requiredEnv: z.optional(
    doc(
      z.array(z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'))),
      'Environment variables the package needs set and not empty (doctor `env`; also every key of its .env.example)',
    ),
  ),
  outputs: z.optional(doc(strings, 'Build outputs (default dist, build)')),
  smoke: z.optional(
    doc(
      z.array(
        z.union([
          z.string().check(z.regex(/^\//, 'a path starting with "/"')),
          z.strictObject({
            path: z.string().check(z.regex(/^\//, 'a path starting with "/"')),
            status: z.optional(wholeNumber(z.int().check(z.minimum(100), z.maximum(599)))),
          }),
        ]),
      ),
      'More paths a new release must answer before it goes live (default status: any 2xx)',
    ),
  ),
  stabilityWindow: z.optional(
    doc(
      wholeNumber(z.int().check(z.minimum(0))),
      'Milliseconds a new release must stay healthy after its first good probe (default 5000)',
    ),
  ),
});

/** `database.tool` values: the migration tools src/db/tools drives (its ToolId is this list). */
export const MIGRATION_TOOLS = [
  'opsctl',
  'umzug-sequelize',
  'sequelize-cli',
  'knex',
  'node-pg-migrate',
  'prisma',
  'typeorm',
  'scripts',
] as const;

const databaseSchema = z.strictObject({
  url: z.optional(doc(z.string(), 'postgres:// URL; defaults to $DATABASE_URL, else the embedded database')),
  migrations: z.optional(doc(z.string(), 'Migrations folder')),
  seeds: z.optional(
    doc(z.string(), 'Seeds folder for `opsctl db seed` (default: seeds/ next to the migrations folder)'),
  ),
  table: z.optional(doc(z.string(), 'Migration state table (default opsctl_migrations)')),
  schema: z.optional(doc(z.string(), 'Schema of the state table (default public)')),
  tool: z.optional(
    doc(
      z.enum(MIGRATION_TOOLS),
      'Migration tool of the app (default: detected); opsctl = opsctl\'s own engine (README, "Apps with their own migration tool")',
    ),
  ),
});

const auditIgnore = z.strictObject({
  id: z.string(),
  reason: z.string().check(z.minLength(1)),
  // YAML reads an unquoted 2027-01-31 as a date
  expires: z.pipe(
    z.union([z.string(), z.date()]),
    z.transform((v: string | Date) => (v instanceof Date ? v.toISOString().slice(0, 10) : v)),
  ),
});

const auditSchema = z.strictObject({
  level: z.optional(z.enum(['low', 'moderate', 'high', 'critical'])),
  ignore: z.optional(z.array(auditIgnore)),
});

/** A duration for `watch`: `500ms`, `30s`, `5m`, or a number of milliseconds (README, "`opsctl watch`"). */
const durationText = z.union([
  z.string().check(z.regex(/^\s*\d+\s*(?:ms|[smhdw])?\s*$/i, 'a duration such as 500ms, 30s, 5m or 1h')),
  z.int().check(z.minimum(1)),
]);

const watchSchema = z.strictObject({
  interval: z.optional(doc(durationText, 'How often watch runs the checks (default 30s)')),
  repeat: z.optional(doc(durationText, 'Remind about a check still failing this often (default 1h)')),
  after: z.optional(wholeNumber(z.int().check(z.minimum(1)))),
});

/** Where watch sends its alerts: a webhook URL, or a command (argv) that gets the JSON on stdin. */
const alertSink = z.union([
  z.strictObject({ webhook: z.string().check(z.regex(/^https?:\/\//i, 'an http:// or https:// URL')) }),
  z.strictObject({ command: z.array(z.string()).check(z.minLength(1)) }),
]);

const envName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'));
const jsName = z.string().check(z.regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/, 'an exported function name'));

/** `encryption`: the app's own encryption module and the columns it encrypts (README, "`opsctl keys`"). */
const encryptionSchema = z.strictObject({
  module: doc(z.string(), 'The app module that encrypts and decrypts, relative to the app root (CommonJS or ESM)'),
  encrypt: z.optional(doc(jsName, 'Its encrypting export (default encryptData)')),
  decrypt: z.optional(doc(jsName, 'Its decrypting export (default decryptData)')),
  keyEnv: z.optional(doc(envName, 'The variable the module reads its key from (default ENCRYPTION_KEY)')),
  columns: doc(
    z
      .array(z.string().check(z.regex(/^[^.\s]+(\.[^.\s]+){1,2}$/, 'schema.table.column or table.column')))
      .check(z.minLength(1)),
    'Encrypted columns: schema.table.column or table.column (the primary key is read from the catalog)',
  ),
  maxAgeDays: z.optional(
    doc(wholeNumber(z.int().check(z.minimum(1))), 'doctor `encryption` warns past this key age (default 90)'),
  ),
});

const baseShape = {
  packages: z.optional(z.record(packageName, packageSchema)),
  database: z.optional(databaseSchema),
  redis: z.optional(z.strictObject({ url: z.optional(z.string()) })),
  logs: z.optional(doc(strings, 'Log file globs scanned by doctor')),
  audit: z.optional(auditSchema),
  pipelines: z.optional(z.record(z.string(), strings)),
  watch: z.optional(watchSchema),
  encryption: z.optional(encryptionSchema),
  alerts: z.optional(doc(z.array(alertSink), 'Alert sinks for `opsctl watch`: {webhook: url} or {command: [argv]}')),
  doctor: z.optional(
    z.strictObject({
      timeout: z.optional(wholeNumber(z.int().check(z.minimum(1)))),
      skip: z.optional(strings),
    }),
  ),
  targets: z.optional(doc(targetsSchema, 'Hosts `--target <name>` deploys to over SSH (README, "Several hosts")')),
};

/** One `environments.<name>` overlay: anything of the top level but `environments`. */
const environmentSchema = z.strictObject(baseShape);

export const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  ...baseShape,
  environments: z.optional(z.record(z.string(), environmentSchema)),
});

export type RawConfig = z.input<typeof configSchema>;
export type ParsedConfig = z.output<typeof configSchema>;
export type PackageConfig = z.output<typeof packageSchema>;

/** The JSON Schema printed by `opsctl config schema`. */
export function configJsonSchema(): object {
  return {
    ...z.toJSONSchema(configSchema, {
      io: 'input',
      unrepresentable: 'any',
      // the file holds `${PORT:-4100}` before interpolation: editors must accept it where a number goes
      override: (ctx) => {
        if (!fromVariable.has(ctx.zodSchema)) return;
        const { description, ...number } = ctx.jsonSchema;
        for (const key of Object.keys(ctx.jsonSchema)) delete ctx.jsonSchema[key];
        Object.assign(ctx.jsonSchema, { description, anyOf: [number, { type: 'string', pattern: VARIABLE_PATTERN }] });
      },
    }),
    title: 'opsctl config',
  };
}
