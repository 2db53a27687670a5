import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Target } from '../config/target.js';
import { ExitCode, type ExitCodeValue, errorMessage, isOpsError, OpsError } from '../errors.js';
import type { Runner } from '../process/runner.js';
import { packAgent } from './agent.js';
import { ensureArchive, hostOpsctlArgv, unpackAgent } from './host-files.js';
import { openSession } from './ssh.js';

/** One host's answer to a command run there. */
export interface HostOutcome {
  host: string;
  /** The host's opsctl exit code (4 when ssh could not reach it). */
  exitCode: ExitCodeValue;
  /** Its `--json` document (when run with --json and it printed one). */
  doc?: Record<string, unknown>;
  stdout: string;
  stderr: string;
  /** ssh failed (unreachable, host key): nothing ran there. */
  error?: OpsError;
}

export interface FleetCommandOptions {
  json: boolean;
  /** Global options for the host-side opsctl (hostGlobals). */
  globals: string[];
  timeoutMs: number;
}

/**
 * Run `opsctl <args>` on every host of the target, concurrently, on the host's app tree with the agent of this
 * opsctl version (copied once where missing): status, start, stop, restart, scale, logs and doctor reuse the
 * local commands there (README, "Several hosts").
 */
export async function runOnHosts(
  runner: Runner,
  target: Target,
  args: string[],
  options: FleetCommandOptions,
): Promise<HostOutcome[]> {
  const workDir = mkdtempSync(join(tmpdir(), 'opsctl-agent-'));
  const session = openSession(runner, target);
  try {
    const agent = await packAgent(runner, join(workDir, 'agent.tgz'));
    return await Promise.all(
      session.hosts.map(async (ssh): Promise<HostOutcome> => {
        const host = ssh.host.name;
        try {
          await ensureArchive(ssh, agent, target.path);
          const bin = await unpackAgent(ssh, agent, target.path);
          const argv = hostOpsctlArgv(target.path, bin, options.globals, [
            ...args,
            ...(options.json ? ['--json'] : []),
          ]);
          const res = await ssh.run([argv], { timeoutMs: options.timeoutMs });
          return {
            host,
            exitCode: res.exitCode as ExitCodeValue,
            stdout: res.stdout,
            stderr: res.stderr,
            ...parsed(res.stdout, options.json),
          };
        } catch (error) {
          const ops = isOpsError(error) ? error : new OpsError('HOST_FAILED', `${host}: ${errorMessage(error)}`);
          return { host, exitCode: ops.exitCode, stdout: '', stderr: '', error: ops };
        }
      }),
    );
  } finally {
    await session.close().catch(() => {});
    rmSync(workDir, { recursive: true, force: true });
  }
}

function parsed(stdout: string, json: boolean): { doc?: Record<string, unknown> } {
  if (!json) return {};
  try {
    return { doc: JSON.parse(stdout) as Record<string, unknown> };
  } catch {
    return {};
  }
}

/** The command's exit code over all hosts: the first host's failure (0 when every host succeeded). */
export function fleetExitCode(outcomes: HostOutcome[]): ExitCodeValue {
  return outcomes.find((o) => o.exitCode !== ExitCode.ok)?.exitCode ?? ExitCode.ok;
}
