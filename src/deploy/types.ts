import type { ResolvedConfig } from '../config/types.js';
import type { Gate } from '../graph/package-graph.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2, Pm2Snapshot } from '../pm2/cli.js';
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
  /** PM2's state before anything changed (taken by the preflight; absent when PM2 is not running). */
  before?: Pm2Snapshot;
}

/** A step's decision: run it, or skip it and say why. */
export type Decision = { run: true; what: string } | { run: false; reason: string };
