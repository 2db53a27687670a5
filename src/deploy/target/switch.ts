import { ExitCode, OpsError } from '../../errors.js';
import { hostOpsctlArgv, unpackApp } from '../../remote/host-files.js';
import type { PackageReport } from '../types.js';
import type { FleetRun, HostRun } from './types.js';

/** What the host-side deploy may take: its health gates, then PM2's reloads. */
const SWITCH_SLACK_MS = 120_000;

/** The host's own `opsctl deploy --json` document, as far as this reads it. */
interface HostDeployJson {
  ok?: boolean;
  exitCode?: number;
  packages?: PackageReport[];
  error?: { code?: string; message?: string; hint?: string };
}

/**
 * Unpack the app archive `sha` as the host's app tree and run the host's own deploy on it, without install, build
 * or migrations (done once, here): its candidate and health gate decide, and on failure it has already put its
 * previous release back. Returns its package reports; throws an exit-3 OpsError when it failed.
 */
export async function switchHost(run: FleetRun, host: HostRun, sha: string): Promise<PackageReport[]> {
  await unpackApp(host.ssh, sha, run.target.path);
  const args = ['deploy', '--skip-install', '--skip-build', '--skip-migrate', '--json'];
  args.push('--health-timeout', String(run.options.healthTimeoutMs));
  if (run.options.force) args.push('--force');
  const res = await host.ssh.run([hostOpsctlArgv(run.target.path, host.bin!, run.options.hostGlobals, args)], {
    timeoutMs: run.options.healthTimeoutMs * 4 + SWITCH_SLACK_MS,
  });
  const doc = parseJson(res.stdout);
  host.report.packages = doc?.packages ?? [];
  if (res.exitCode === 0 && doc?.ok) return host.report.packages;
  const why = doc?.error?.message ?? (res.stderr.trim().split('\n').at(-1) || `exit ${res.exitCode}`);
  throw new OpsError('HOST_DEPLOY_FAILED', `${host.ssh.host.name}: the new release failed there: ${why}`, {
    hint: doc?.error?.hint ?? `Read its logs: opsctl logs --target ${run.target.name}.`,
    // another deploy/start/stop of the app holds the host's lock: exit 5, as locally
    exitCode: doc?.exitCode === ExitCode.locked ? ExitCode.locked : ExitCode.failed,
  });
}

/** The host back on the app it served before (`previous`), through the same gate; or its packages stopped on a first deploy. */
export async function restorePrevious(run: FleetRun, host: HostRun): Promise<void> {
  const previous = host.facts?.serving;
  if (previous) {
    await switchHost(run, host, previous);
    return;
  }
  const res = await host.ssh.run(
    [hostOpsctlArgv(run.target.path, host.bin!, run.options.hostGlobals, ['stop', '--json'])],
    { timeoutMs: SWITCH_SLACK_MS },
  );
  if (res.exitCode !== 0) {
    throw new OpsError('HOST_STOP_FAILED', `${host.ssh.host.name}: stopping the failed first release failed.`, {
      hint: `Run opsctl stop --target ${run.target.name}.`,
    });
  }
}

function parseJson(text: string): HostDeployJson | undefined {
  try {
    return JSON.parse(text) as HostDeployJson;
  } catch {
    return undefined;
  }
}
