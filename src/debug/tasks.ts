import type { ListrTask } from 'listr2';
import type { ResolvedConfig } from '../config/types.js';
import type { AppPackage } from '../packages/types.js';
import type { Pm2 } from '../pm2/cli.js';
import { ownProcessPredicate } from '../pm2/own-process.js';
import type { Runner } from '../process/runner.js';
import type { DebugLaunch } from './launch.js';
import { verifyPortFree } from './ports.js';
import { type DebuggedProcess, startDebugged } from './start.js';

/** What `opsctl debug` runs, and where its tasks leave the started process. */
export interface DebugRun {
  config: ResolvedConfig;
  pkg: AppPackage;
  launch: DebugLaunch;
  runner: Runner;
  /** The app's PM2, to tell the package's own instances from a foreign holder of its port. */
  pm2: Pm2;
  signal: AbortSignal;
  /** Each output line of the package while it starts; `show` puts it in the live progress (its last line). */
  onLine(line: string, show: (text: string) => void): void;
  /** Set once its inspector is up. */
  debugged?: DebuggedProcess;
}

/**
 * `opsctl debug`'s progress (README, "`opsctl debug`"): the package's port and inspector port free (else the holder
 * named, exit 3), then the package started and its inspector announced.
 */
export function debugTasks(run: DebugRun): ListrTask[] {
  const { pkg, launch, runner } = run;
  return [
    {
      title: `${pkg.name}: ports free`,
      task: async () => {
        if (pkg.port !== undefined) {
          // the package itself, deployed under PM2, is the usual holder: say how to debug that one instead
          const isOwn = await ownProcessPredicate(run.pm2, pkg.name);
          await verifyPortFree(
            pkg.port,
            {
              what: `${pkg.name}'s port`,
              hint: `Change packages.${pkg.name}.port in the config.`,
              ownHint: `That is ${pkg.name} itself, running under PM2: debug it where it runs with \`opsctl debug attach ${pkg.name}\`, or stop it first (\`opsctl stop ${pkg.name}\`).`,
              isOwn,
            },
            runner,
          );
        }
        if (!launch.inspect) return;
        const hint =
          launch.kind === 'script'
            ? `Change the port in ${pkg.path}/package.json's debug script.`
            : `Pick another with --port (or packages.${pkg.name}.debugPort).`;
        await verifyPortFree(launch.inspect.port, { what: `${pkg.name}'s inspector port`, hint }, runner);
      },
    },
    {
      title: `${pkg.name}: ${launch.kind === 'script' ? 'npm run debug' : `node ${launch.args.join(' ')}`}`,
      task: async (_ctx, task) => {
        run.debugged = await startDebugged(run.config, pkg, launch, {
          runner,
          signal: run.signal,
          onLine: (line) =>
            run.onLine(line, (text) => {
              task.output = text;
            }),
        });
      },
    },
  ];
}
