import type { Target } from '../../config/target.js';
import type { LoadBalancer } from '../../lb/load-balancer.js';
import type { Archive } from '../../remote/archive.js';
import type { FleetLockOwner } from '../../remote/fleet-lock.js';
import type { SshHost, SshSession } from '../../remote/ssh.js';
import type { DeployDeps, DeployRun, PackageReport } from '../types.js';

export type HostStepName = 'preflight' | 'copy' | 'ports' | 'drain' | 'switch' | 'ready' | 'rollback';

/** One step on one host, as `deploy --target --json` reports it. */
export interface HostStep {
  step: HostStepName;
  status: 'done' | 'skipped' | 'failed';
  reason?: string;
  durationMs: number;
}

/** A host's part of `deploy --target --json`: `packages` is what the host's own `deploy --json` reported. */
export interface HostReport {
  host: string;
  ok: boolean;
  /** The app archive (sha256, 16 hex) serving when the command ended. */
  release?: string;
  /** The app archive the host served before. */
  previous?: string;
  /** The host was switched, then put back on `previous` because a later host failed. */
  rolledBack?: boolean;
  steps: HostStep[];
  packages: PackageReport[];
}

/** What the preflight read on a host. */
export interface HostFacts {
  node: string;
  freeKb: number;
  /** sha256 of the app archive the host serves, if opsctl deployed there before. */
  serving?: string;
  /** Archives already on the host (by sha256). */
  archives: string[];
}

export interface HostRun {
  ssh: SshHost;
  report: HostReport;
  facts?: HostFacts;
  /** bin/opsctl.js of the agent on the host, once unpacked. */
  bin?: string;
  /** Its app tree was replaced and its release switched (or tried): a rollback must put `previous` back. */
  switched: boolean;
  /** This run holds the host's deploy --target lock (released in closeFleetRun). */
  locked?: boolean;
}

export interface FleetOptions {
  dryRun?: boolean;
  healthTimeoutMs: number;
  /** Global options of the host-side commands: `--env`, `-c` (hostGlobals). */
  hostGlobals: string[];
  force?: boolean;
}

/** The state of one `deploy --target` run, shared by its tasks. */
export interface FleetRun {
  target: Target;
  deps: DeployDeps;
  options: FleetOptions;
  session: SshSession;
  lb?: LoadBalancer;
  /** What the preflight found wrong with the load balancer (its socket, a backend, a host without a server). */
  lbError?: Error;
  hosts: HostRun[];
  /** The local install/build/migrate run (the release is built once, here). */
  build: DeployRun;
  /** Local folder of the archives made for this run (removed at the end). */
  workDir: string;
  agent?: Archive;
  app?: Archive;
  errors: Error[];
  /** Who this run is, in the hosts' locks; `heartbeat` keeps them fresh while it runs. */
  lock: FleetLockOwner;
  heartbeat?: ReturnType<typeof setInterval>;
}
