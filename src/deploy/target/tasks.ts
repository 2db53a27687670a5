import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ListrTask } from 'listr2';
import type { Target } from '../../config/target.js';
import { haproxyLoadBalancer } from '../../lb/load-balancer.js';
import type { AppPackage } from '../../packages/types.js';
import { fleetLockOwner } from '../../remote/fleet-lock.js';
import { pruneHost } from '../../remote/host-files.js';
import { openSession } from '../../remote/ssh.js';
import { createDeployRun, deployTasks, migrateTasks } from '../tasks.js';
import type { DeployDeps, DeployOptions } from '../types.js';
import { shortSha, skipStep } from './host-step.js';
import { lockHosts, unlockHosts } from './lock.js';
import { verifyHostPorts } from './ports.js';
import { preflightHost } from './preflight.js';
import { rollbackTasks, rolloutTasks } from './roll.js';
import { packAll, shipTo } from './ship.js';
import type { FleetOptions, FleetRun } from './types.js';

/** A `deploy --target` run; call `closeFleetRun` in finally (ssh connections, temp archives). */
export function createFleetRun(
  deps: DeployDeps,
  target: Target,
  packages: AppPackage[],
  options: FleetOptions & Omit<DeployOptions, 'noStart' | 'healthTimeoutMs'>,
  signal?: AbortSignal,
): FleetRun {
  // what may throw (a bad socket, a dependency cycle) before what makes temp folders
  const lb = target.loadBalancer
    ? haproxyLoadBalancer(target.loadBalancer.haproxy, { root: deps.config.root })
    : undefined;
  // built once, here: install and build (migrations later, once, before any host switches); nothing started locally
  const build = createDeployRun(deps, packages, { ...options, noStart: true }, signal);
  const session = openSession(deps.runner, target);
  return {
    target,
    deps,
    options,
    session,
    ...(lb ? { lb } : {}),
    hosts: session.hosts.map((ssh) => ({
      ssh,
      switched: false,
      report: { host: ssh.host.name, ok: true, steps: [], packages: [] },
    })),
    build,
    workDir: mkdtempSync(join(tmpdir(), 'opsctl-ship-')),
    errors: [],
    lock: fleetLockOwner(),
  };
}

export async function closeFleetRun(run: FleetRun): Promise<void> {
  try {
    await unlockHosts(run);
    await run.session.close();
  } finally {
    rmSync(run.workDir, { recursive: true, force: true });
  }
}

/**
 * The rolling deploy (README, "Several hosts"): preflight every host and the load balancer; build once here; pack
 * and copy to every host and check its ports; migrate once; then host by host; on a failure every switched host
 * goes back.
 */
export function fleetTasks(run: FleetRun): ListrTask[] {
  // the step's name leads the message: the live renderer shows a skip message instead of the title
  const stopped = (title: string) => {
    // Ctrl-C: the host being switched finishes (its own gate decides), then every switched host goes back
    if (run.build.signal?.aborted && !run.errors.includes(run.build.signal.reason))
      run.errors.push(run.build.signal.reason);
    return run.errors.length || run.build.errors.length ? `${title}: an earlier step failed` : false;
  };
  const dry = run.options.dryRun;
  const migrate = 'migrate, once, before any host switches';
  const roll = `roll out, ${run.target.maxUnavailable} host(s) at a time`;
  const prune = 'prune old archives on the hosts';
  return [
    {
      title: `preflight: ${run.hosts.length} host(s)${run.lb ? ' and HAProxy' : ''}`,
      task: async () => {
        const results = await Promise.allSettled([
          ...run.hosts.map((h) => preflightHost(run, h)),
          // its own problem is reported beside the hosts' (an unreachable host must not hide a missing socket)
          ...(run.lb ? [verifyLb(run, run.lb)] : []),
        ]);
        throwFailed(run, results);
        // one deploy --target at a time on a host, whichever machine it runs from (a dry run changes nothing)
        if (!dry) await lockHosts(run);
      },
    },
    {
      title: 'build here',
      skip: () => stopped('build here'),
      // migrations later: once every host has the release and its ports are checked (a failed copy migrates nothing)
      task: (_c, task) => task.newListr(deployTasks(run.build, { migrate: false }), { exitOnError: true }),
    },
    {
      title: 'pack and copy to hosts',
      skip: () =>
        stopped('pack and copy to hosts') ||
        (dry ? 'pack and copy to hosts: dry run: would pack the app and opsctl and copy them where missing' : false),
      task: async (_c, task) => {
        await packAll(run);
        throwFailed(run, []);
        task.title = `pack and copy app ${shortSha(run.app!.sha256)} to hosts`;
        // every host gets the archives, then every host's ports are checked: only then does anything switch
        // interrupted: the connections are dropped at once. The master ssh reads the archive itself (the client hands
        // it its stdin), so ending the client alone would let it carry the rest over a slow link first
        const drop = () => void run.session.disconnect();
        run.build.signal?.addEventListener('abort', drop, { once: true });
        const results = await Promise.allSettled(
          run.hosts.map((h) => shipTo(run, h).then(() => verifyHostPorts(run, h))),
        ).finally(() => run.build.signal?.removeEventListener('abort', drop));
        throwFailed(run, results);
      },
    },
    {
      title: migrate,
      skip: () => stopped(migrate),
      task: (_c, task) => task.newListr(migrateTasks(run.build), { exitOnError: true }),
    },
    {
      title: roll,
      skip: () => stopped(roll) || (dry ? `${roll}: dry run` : false),
      task: (_c, task) => task.newListr(rolloutTasks(run, stopped), { exitOnError: false }),
    },
    ...rollbackTasks(run),
    {
      title: prune,
      skip: () => stopped(prune) || (dry ? `${prune}: dry run` : false),
      // what a later rollback needs stays: the archive now serving and the one before it
      task: () =>
        Promise.all(
          run.hosts.map((h) =>
            pruneHost(
              h.ssh,
              run.target.path,
              [run.app!.sha256, h.facts?.serving ?? ''].filter(Boolean),
              run.agent!.sha256,
            ),
          ),
        ).then(() => undefined),
    },
    {
      title: 'plan',
      enabled: () => Boolean(dry),
      // interrupted: no plan; after a failed step, the plan of what is known, not a success
      skip: () => (run.build.signal?.aborted ? 'plan: interrupted' : false),
      task: (_c, task) => {
        for (const host of run.hosts) planHost(run, host);
        if (run.errors.length || run.build.errors.length) task.skip('plan: incomplete, an earlier step failed');
      },
    },
  ];
}

/** The load balancer's preflight; its problem is kept on the run as well, for the report. */
async function verifyLb(run: FleetRun, lb: NonNullable<FleetRun['lb']>): Promise<void> {
  try {
    await lb.verify(run.hosts.map((h) => h.ssh.host.host));
  } catch (error) {
    run.lbError = error as Error;
    throw error;
  }
}

/**
 * After steps run on every host at once: a signal (Ctrl-C, SIGTERM before anything switched: their ssh commands
 * were ended with it) is the run's error, else the hosts' failures; the first is thrown.
 */
function throwFailed(run: FleetRun, results: PromiseSettledResult<unknown>[]): void {
  const signal = run.build.signal;
  const failed = signal?.aborted
    ? [signal.reason as Error]
    : results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
  if (!failed.length) return;
  run.errors.push(...failed);
  throw failed[0];
}

/** --dry-run: what each host would go through, recorded as skipped steps. */
function planHost(run: FleetRun, host: FleetRun['hosts'][number]): void {
  const to = 'the release built here';
  // what a host serves is only known when its preflight read it
  const from = host.facts
    ? (shortSha(host.facts.serving) ?? 'nothing')
    : 'an unknown release (not read: preflight failed)';
  skipStep(host, 'copy', `dry run: would copy the app and opsctl unless ${run.target.path}/.opsctl has them`);
  skipStep(host, 'ports', 'dry run: checked on the host with the new config once it is copied');
  skipStep(
    host,
    'drain',
    run.lb ? 'dry run: would drain, wait for sessions to end, then maintenance' : 'no load balancer',
  );
  skipStep(host, 'switch', `dry run: would switch from ${from} to ${to}`);
  skipStep(host, 'ready', run.lb ? 'dry run: would set ready and wait until UP' : 'no load balancer');
}
