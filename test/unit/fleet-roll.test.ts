import { describe, expect, it } from 'vitest';
import { rollbackTasks, rolloutTasks } from '../../src/deploy/target/roll.js';
import type { FleetRun, HostRun } from '../../src/deploy/target/types.js';
import type { LoadBalancer } from '../../src/lb/load-balancer.js';
import type { SshHost } from '../../src/remote/ssh.js';
import { runTasks } from '../../src/tasks/run.js';

const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);

/** Hosts whose opsctl answers `deploy --json` ok unless the release unpacked there is in `failsOn`; a log of events. */
function fleet(names: string[], failsOn: Record<string, string>, maxUnavailable = 1) {
  const events: string[] = [];
  const host = (name: string): HostRun => {
    let tree = OLD;
    const ssh: SshHost = {
      host: { name, host: name },
      async run(commands) {
        const argv = commands[0]!;
        const unpack = argv.find((a) => a.endsWith('.tgz'));
        if (unpack) {
          tree = unpack.slice(-68, -4);
          return { exitCode: 0, stdout: '', stderr: '', timedOut: false, notFound: false, durationMs: 1 };
        }
        const ok = failsOn[name] !== tree;
        events.push(`${name}: ${ok ? 'serves' : 'refuses'} ${tree[0]}`);
        const doc = { ok, exitCode: ok ? 0 : 3, packages: [], ...(ok ? {} : { error: { message: 'health gate' } }) };
        return {
          exitCode: ok ? 0 : 3,
          stdout: JSON.stringify(doc),
          stderr: '',
          timedOut: false,
          notFound: false,
          durationMs: 1,
        };
      },
    };
    return {
      ssh,
      switched: false,
      bin: '/x/bin/opsctl.js',
      facts: { node: 'v20.19.0', freeKb: 1e9, serving: OLD, archives: [] },
      report: { host: name, ok: true, steps: [], packages: [] },
    };
  };
  const lb: LoadBalancer = {
    describe: async () => 'lb',
    verify: async () => {},
    servers: async () => [],
    takeOut: async (h) => {
      events.push(`${h}: out`);
      return [];
    },
    putBack: async (h) => void events.push(`${h}: in`),
  };
  const run = {
    target: { name: 't', hosts: [], path: '/srv/a', ssh: { connectTimeoutS: 1 }, maxUnavailable, build: 'local' },
    options: { healthTimeoutMs: 1000, hostGlobals: ['--env', 'production'] },
    hosts: names.map(host),
    lb,
    app: { file: '/tmp/app.tgz', sha256: NEW },
    errors: [],
  } as unknown as FleetRun;
  const go = async () => {
    const stopped = () => (run.errors.length ? 'an earlier host failed' : false);
    await runTasks(
      [...rolloutTasks(run, stopped), ...rollbackTasks(run)],
      {},
      { renderer: 'silent', exitOnError: false },
    );
  };
  return { run, events, go };
}

describe('rolling over hosts', () => {
  it('one host at a time: out, switch, in; nothing rolled back when all pass', async () => {
    const { run, events, go } = await fleet(['h1', 'h2'], {});
    await go();
    expect(events).toEqual(['h1: out', 'h1: serves b', 'h1: in', 'h2: out', 'h2: serves b', 'h2: in']);
    expect(run.errors).toEqual([]);
  });

  it('a failure on the third host: it goes back in, the two switched go back last first, the rest never starts', async () => {
    const { run, events, go } = await fleet(['h1', 'h2', 'h3', 'h4'], { h3: NEW });
    await go();
    expect(events).toEqual([
      'h1: out',
      'h1: serves b',
      'h1: in',
      'h2: out',
      'h2: serves b',
      'h2: in',
      'h3: out',
      'h3: refuses b',
      'h3: serves a',
      'h3: in',
      'h2: out',
      'h2: serves a',
      'h2: in',
      'h1: out',
      'h1: serves a',
      'h1: in',
    ]);
    expect(run.errors[0]!.message).toMatch(/h3: the new release failed there: health gate/);
    expect(run.hosts.map((h) => h.report.rolledBack ?? false)).toEqual([true, true, false, false]);
    expect(run.hosts[3]!.report.steps).toEqual([]);
  });

  it('maxUnavailable 2: a batch switches together; a failure in it rolls back its other host too', async () => {
    const { events, go } = await fleet(['h1', 'h2', 'h3'], { h2: NEW }, 2);
    await go();
    expect(events.slice(0, 2).sort()).toEqual(['h1: out', 'h2: out']);
    expect(events).not.toContain('h3: out');
    expect(events.slice(-3)).toEqual(['h1: out', 'h1: serves a', 'h1: in']);
  });
});
