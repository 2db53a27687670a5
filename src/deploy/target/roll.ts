import type { ListrTask } from 'listr2';
import { errorMessage } from '../../errors.js';
import { hostStep, shortSha, skipStep } from './host-step.js';
import { restorePrevious, switchHost } from './switch.js';
import type { FleetRun, HostRun } from './types.js';

/** The hosts in batches of `maxUnavailable`, in the config's order. */
export function batches(run: FleetRun): HostRun[][] {
  const size = run.target.maxUnavailable;
  const out: HostRun[][] = [];
  for (let i = 0; i < run.hosts.length; i += size) out.push(run.hosts.slice(i, i + size));
  return out;
}

/**
 * Host by host (`maxUnavailable` at a time): out of the load balancer, switch (the host's own candidate and health
 * gate), back in and UP. A failure stops the roll-out; the failed host is already back on its previous release
 * (its own deploy's guarantee) and is put back in rotation before the error goes up.
 */
export function rolloutTasks(run: FleetRun, stopped: (title: string) => string | false): ListrTask[] {
  const all = batches(run);
  return all.map((batch, i) => ({
    title: `batch ${i + 1} of ${all.length}`,
    skip: () => stopped(`batch ${i + 1} of ${all.length}`),
    task: (_ctx, task) =>
      task.newListr(
        batch.map((host) => ({
          title: host.ssh.host.name,
          task: async (_c, sub) => {
            try {
              await rollHost(run, host, (text) => (sub.output = text));
            } catch (error) {
              run.errors.push(error as Error);
              throw error;
            }
          },
        })),
        { concurrent: true, exitOnError: false },
      ),
  }));
}

async function rollHost(run: FleetRun, host: HostRun, say: (text: string) => void): Promise<void> {
  const address = host.ssh.host.host;
  const sha = run.app!.sha256;
  if (run.lb) {
    say('drain');
    await hostStep(
      host,
      'drain',
      () => run.lb!.takeOut(address),
      (r) => `${r.length} server(s) in maintenance`,
    );
  } else skipStep(host, 'drain', 'no load balancer');
  host.switched = true;
  try {
    say(`switch to ${shortSha(sha)}`);
    await hostStep(
      host,
      'switch',
      () => switchHost(run, host, sha),
      () => `app ${shortSha(sha)}`,
    );
    host.report.release = shortSha(sha);
  } catch (error) {
    // its own deploy put the previous release back; its app tree and record follow, then it serves again
    host.switched = false;
    const why = await restorePrevious(run, host).then(
      () => undefined,
      (e: unknown) => errorMessage(e),
    );
    // not known to be back on its previous release (unreachable now): it stays out of rotation rather than serve
    // a second release beside the others
    if (why === undefined) await putBack(run, host, say).catch(() => {});
    else if (run.lb)
      skipStep(host, 'ready', `left out of rotation: it could not be put back on its previous release (${why})`);
    throw error;
  }
  await putBack(run, host, say);
}

async function putBack(run: FleetRun, host: HostRun, say: (text: string) => void): Promise<void> {
  if (!run.lb) return skipStep(host, 'ready', 'no load balancer');
  say('ready');
  await hostStep(
    host,
    'ready',
    () => run.lb!.putBack(host.ssh.host.host),
    () => 'UP in HAProxy',
  );
}

/** After a failure: every switched host, last first, back on its previous release and in rotation. */
export function rollbackTasks(run: FleetRun): ListrTask[] {
  return [
    {
      title: 'roll back switched hosts',
      // the step's name in the message: the live renderer shows a skip message instead of the title
      skip: () =>
        !run.errors.length
          ? 'roll back switched hosts: nothing failed'
          : !switched(run).length
            ? 'roll back switched hosts: no host was switched'
            : false,
      task: (_ctx, task) =>
        task.newListr(
          switched(run)
            .reverse()
            .map((host) => ({
              title: host.ssh.host.name,
              task: async (_c, sub) => rollBackHost(run, host, (text) => (sub.output = text)),
            })),
          { concurrent: false, exitOnError: false },
        ),
    },
  ];
}

const switched = (run: FleetRun) => run.hosts.filter((h) => h.switched);

async function rollBackHost(run: FleetRun, host: HostRun, say: (text: string) => void): Promise<void> {
  try {
    // the load balancer unreachable (HAProxy restarted, its socket gone): the host still goes back, in rotation as
    // it is, rather than stay the one host on the new release (its failed drain step says so)
    const out = run.lb ? await takeOutForRollback(run, host, say) : false;
    say(`back to ${shortSha(host.facts?.serving) ?? 'nothing (first deploy)'}`);
    await hostStep(
      host,
      'rollback',
      () => restorePrevious(run, host),
      () => `back on ${shortSha(host.facts?.serving) ?? 'nothing'}`,
    );
    host.report.release = shortSha(host.facts?.serving);
    host.report.rolledBack = true;
    host.report.ok = false;
    if (out && host.facts?.serving) await putBack(run, host, say);
  } catch (error) {
    run.errors.push(new Error(`${host.ssh.host.name}: rollback failed: ${errorMessage(error)}`));
    throw error;
  }
}

/** Out of rotation before going back; false (recorded as a failed `drain` step of the host) when the LB is away. */
async function takeOutForRollback(run: FleetRun, host: HostRun, say: (text: string) => void): Promise<boolean> {
  say('drain');
  const started = performance.now();
  try {
    await run.lb!.takeOut(host.ssh.host.host);
    return true;
  } catch (error) {
    const reason = `could not take it out of rotation before going back (${errorMessage(error)}): it went back in rotation`;
    host.report.steps.push({
      step: 'drain',
      status: 'failed',
      reason,
      durationMs: Math.round(performance.now() - started),
    });
    return false;
  }
}
