import type { Provenance } from '../app/provenance.js';
import type { ResolvedConfig } from '../config/types.js';
import type { Gate } from '../graph/package-graph.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2, Pm2Snapshot } from '../pm2/cli.js';
import type { Launch } from '../pm2/launch.js';
import type { Runner } from '../process/runner.js';

export type StepName = 'install' | 'build' | 'migrate' | 'start' | 'health';
export type StepStatus = 'done' | 'skipped' | 'failed';

/** One step of one package, as `deploy --json` reports it (README, "JSON shapes"). */
export interface StepReport {
  step: StepName;
  status: StepStatus;
  reason?: string;
  durationMs: number;
  /** A failed start or health gate: the package's last log lines (redacted, naming source files). */
  logTail?: string[];
}

export interface PackageReport {
  name: string;
  steps: StepReport[];
  /** The release now serving (after a rollback, the previous one). */
  release?: string;
  /** Set when a failed health gate put the previous release back. */
  rolledBackTo?: string;
  /** The failing package's last log lines (redacted), as on its failed step (kept here for older readers). */
  logTail?: string[];
}

export interface DeployOptions {
  force?: boolean;
  skipInstall?: boolean;
  skipBuild?: boolean;
  skipMigrate?: boolean;
  /** `--no-start`: install and build only. */
  noStart?: boolean;
  dryRun?: boolean;
  healthTimeoutMs: number;
  concurrency?: number;
  /** What the release is made of (git, versions, who, when): recorded per package when it goes live. */
  provenance?: Provenance;
}

export interface DeployDeps {
  config: ResolvedConfig;
  runner: Runner;
  pm2: Pm2;
}

/** The state of one deploy run, shared by its tasks. Packages are in dependency order. */
export interface DeployRun {
  deps: DeployDeps;
  options: DeployOptions;
  packages: AppPackage[];
  reports: Map<string, PackageReport>;
  /** Errors of failed steps, first first. */
  errors: Error[];
  prepared: Map<string, Gate>;
  started: Map<string, Gate>;
  /** Aborted on SIGINT/SIGTERM (its reason: the interrupt error): steps stop, a candidate is deleted, a release put back. */
  signal?: AbortSignal;
  /** PM2's state before anything changed (taken by the preflight; absent when PM2 is not running). */
  before?: Pm2Snapshot;
}

/** A step's decision: run it, or skip it and say why. */
export type Decision = { run: true; what: string } | { run: false; reason: string };

/** What the start step did, handed to the health step and its rollback. */
export interface StartRecord {
  /** The release this deploy runs, and the one it replaces (what a rollback puts back). */
  id?: string;
  previous?: string;
  /** The identity environment this deploy gives the package (in memory only; its fingerprint is kept once live). */
  identity?: Record<string, string>;
  /** Why the package is reloaded (`code changed…`, `env X changed`), shown by --dry-run and the step's reason. */
  changes?: string[];
  /** The release already ran: start was skipped, so there is nothing to roll back. */
  unchanged?: boolean;
  /** The new release running beside the live one until it has proved itself (README, "Deploy"). */
  candidate?: Launch;
  /** `current` or the live instances were changed: a failure from here on puts the previous release back. */
  live?: boolean;
  launch?: Launch;
}
