import { posix } from 'node:path';
import { ExitCode, OpsError } from '../../errors.js';
import { hostOpsctlArgv, hostPaths } from '../../remote/host-files.js';
import { hostStep } from './host-step.js';
import type { FleetRun, HostRun } from './types.js';

const PORTS_TIMEOUT_MS = 60_000;
// constant: the archive, the staging folder; the new release's config and sources without node_modules
const STAGE = 'rm -rf "$2" && mkdir -p "$2" && tar -xzf "$1" -C "$2" --exclude=node_modules';

interface DoctorJson {
  checks?: Array<{ id: string; status: string; message: string; hint?: string }>;
}

/**
 * Before any host switches: on every host, the ports of the release being deployed are free or held by the app's
 * own PM2 processes there (doctor's `port` checks, run by the host's opsctl on the new config with the live app's
 * PM2 home). A port taken by anything else stops the deploy with nothing switched anywhere.
 */
export async function verifyHostPorts(run: FleetRun, host: HostRun): Promise<void> {
  await hostStep(
    host,
    'ports',
    async () => {
      const paths = hostPaths(run.target.path);
      const staging = posix.join(run.target.path, '.opsctl', 'staging');
      const pm2Home = posix.join(paths.app, '.opsctl', 'pm2');
      const doctor = hostOpsctlArgv(run.target.path, host.bin!, run.options.hostGlobals, [
        'doctor',
        '--only',
        'port',
        '--json',
      ]);
      // the same argv, with -C on the staged copy: `node bin -C <staging> ...`
      doctor[3] = staging;
      const res = await host.ssh.run(
        [
          ['sh', '-c', STAGE, 'sh', paths.archive(run.app!.sha256), staging],
          ['env', `PM2_HOME=${pm2Home}`, ...doctor],
        ],
        { timeoutMs: PORTS_TIMEOUT_MS, ...(run.build.signal ? { signal: run.build.signal } : {}) },
      );
      await host.ssh.run([['rm', '-rf', staging]], { timeoutMs: PORTS_TIMEOUT_MS }).catch(() => undefined);
      const failed = (parse(res.stdout)?.checks ?? []).filter((c) => c.status === 'fail');
      if (failed.length) {
        throw new OpsError('HOST_PORT_TAKEN', `${host.ssh.host.name}: ${failed.map((c) => c.message).join('; ')}.`, {
          hint: `${failed[0]!.hint ?? 'Free the port on that host.'} Nothing was switched on any host.`,
          exitCode: ExitCode.failed,
        });
      }
      if (res.exitCode !== 0 && !parse(res.stdout)) {
        throw new OpsError(
          'HOST_STEP_FAILED',
          `${host.ssh.host.name}: checking ports failed (${res.stderr.trim().split('\n').at(-1) ?? res.exitCode}).`,
          {
            hint: 'Check free disk space and permissions under the target path on that host.',
          },
        );
      }
    },
    () => 'free, or held by the app itself',
  );
}

function parse(text: string): DoctorJson | undefined {
  try {
    return JSON.parse(text) as DoctorJson;
  } catch {
    return undefined;
  }
}
