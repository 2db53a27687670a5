import type { AppPackage } from '../packages/types.js';
import type { MIGRATION_TOOLS, ParsedConfig } from './schema.js';
import type { TargetConfig } from './target-schema.js';

/** Where the database URL came from. */
export type DatabaseSource = 'config' | 'env' | 'embedded' | 'none';

/** The config after file, `.env`, interpolation, `--env` overlay and package discovery. */
export interface ResolvedConfig {
  root: string;
  /** The config file read, if any. */
  file?: string;
  envName?: string;
  packages: AppPackage[];
  /** Every package of the app when `-p` narrowed `packages` (so a name left out can be told from an unknown one). */
  appPackages?: AppPackage[];
  database: {
    url?: string;
    source: DatabaseSource;
    migrations?: string;
    /** `database.seeds`: the seeds folder of `db seed`, when the config names one. */
    seeds?: string;
    table: string;
    schema: string;
    /** `database.tool`: the migration tool, when the config names one (else detected). */
    tool?: (typeof MIGRATION_TOOLS)[number];
    /** No URL: the `${VAR}`s `database.url` reads that are not set (what the missing-URL error names). */
    unsetVars?: string[];
  };
  redis: { url?: string };
  logs: string[];
  audit: NonNullable<ParsedConfig['audit']>;
  pipelines: Record<string, string[]>;
  doctor: NonNullable<ParsedConfig['doctor']>;
  /** `opsctl watch`'s settings and alert sinks (README, "`opsctl watch`"). */
  watch: NonNullable<ParsedConfig['watch']>;
  alerts: NonNullable<ParsedConfig['alerts']>;
  /** `targets.<name>` as written (`readTarget` resolves one; README, "Several hosts"). */
  targets: Record<string, TargetConfig>;
  /** `encryption`: the app's encryption module and encrypted columns, when configured (README, "`opsctl keys`"). */
  encryption?: ParsedConfig['encryption'];
  /** Process environment merged over `.env` (the real environment wins). */
  env: Record<string, string | undefined>;
  /** The names `.env` sets (part of a release's identity, README "Deploy"). */
  dotenvKeys?: string[];
  /** Config values (by dotted path after the `--env` overlay: `redis.url`) that read a `${VAR}` not set here. */
  unsetRefs?: Record<string, string[]>;
  /** Things worth telling the user that are not errors. */
  warnings: string[];
}
