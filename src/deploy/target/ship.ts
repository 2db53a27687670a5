import { join } from 'node:path';
import { packAgent } from '../../remote/agent.js';
import { type Archive, packArchive } from '../../remote/archive.js';
import { ensureArchive, unpackAgent } from '../../remote/host-files.js';
import { hostStep, shortSha } from './host-step.js';
import type { FleetRun, HostRun } from './types.js';

/** Never shipped: opsctl's local state (releases, PM2 home, caches), VCS, logs. */
const NOT_SHIPPED = ['./.opsctl', './.git', './logs', '*.log', './*/.opsctl', './*/logs'];

/** Pack opsctl's agent and the built app (sources, build outputs, node_modules), once, here. */
export async function packAll(run: FleetRun): Promise<{ agent: Archive; app: Archive }> {
  const { runner, config } = run.deps;
  const agent = await packAgent(runner, join(run.workDir, 'agent.tgz'));
  const app = await packArchive(runner, config.root, ['.'], join(run.workDir, 'app.tgz'), NOT_SHIPPED);
  run.agent = agent;
  run.app = app;
  return { agent, app };
}

/** Copy both archives to a host unless it has them (sha256 checked there), and unpack the agent once per version. */
export async function shipTo(run: FleetRun, host: HostRun): Promise<void> {
  await hostStep(
    host,
    'copy',
    async () => {
      const copied: string[] = [];
      for (const [what, archive] of [
        ['opsctl', run.agent!],
        ['app', run.app!],
      ] as const) {
        if ((await ensureArchive(host.ssh, archive, run.target.path, run.build.signal)) === 'copied') copied.push(what);
      }
      host.bin = await unpackAgent(host.ssh, run.agent!, run.target.path, run.build.signal);
      return copied;
    },
    (copied) =>
      copied.length
        ? `copied ${copied.join(' and ')} (app ${shortSha(run.app!.sha256)})`
        : `already there (app ${shortSha(run.app!.sha256)})`,
  );
}
