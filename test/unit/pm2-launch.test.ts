import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/types.js';
import type { AppPackage } from '../../src/packages/types.js';
import type { Pm2 } from '../../src/pm2/cli.js';
import { launchRelease, waitLaunched } from '../../src/pm2/launch.js';
import type { Pm2Instance } from '../../src/pm2/processes.js';

/** The shared start/reload path against a fake PM2: which commands it runs, and how its gate reads instances. */

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-launch-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

const pkg = (more: Partial<AppPackage> = {}): AppPackage => ({
  name: 'worker',
  dir: join(root, 'worker'),
  path: 'worker',
  scripts: { start: 'node worker.js' },
  dependencies: {},
  devDependencies: {},
  dependsOn: [],
  env: { QUEUE: 'jobs' },
  outputs: [],
  ...more,
});

const config = (): ResolvedConfig => ({
  root,
  packages: [],
  database: { url: 'postgres://app@db/app', source: 'env', table: 'opsctl_migrations', schema: 'public' },
  redis: {},
  logs: [],
  audit: {},
  pipelines: {},
  doctor: {},
  watch: {},
  alerts: [],
  targets: {},
  env: { PATH: '/usr/bin' },
  warnings: [],
});

const instance = (pmId: number, state: string, restarts = 0, release = 'abc123abc123'): Pm2Instance => ({
  name: 'worker',
  pmId,
  pid: 1000 + pmId,
  state,
  uptimeMs: 0,
  restarts,
  memoryBytes: 0,
  cpu: 0,
  release,
});

/** A PM2 whose `jlist` answers from a list of lists (the last one repeats), recording every other call. */
function fakePm2(lists: Pm2Instance[][]): Pm2 & { calls: string[]; envs: Record<string, string>[] } {
  const calls: string[] = [];
  const envs: Record<string, string>[] = [];
  let n = 0;
  return {
    home: join(root, '.opsctl', 'pm2'),
    calls,
    envs,
    jlist: async () => lists[Math.min(n++, lists.length - 1)]!,
    snapshot: async () => ({ instances: [], envOf: () => undefined }),
    verifyStartable: async () => {},
    start: async (file, env) => {
      calls.push(`start ${file.slice(root.length + 1)}`);
      envs.push(env);
    },
    reload: async (file, env) => {
      calls.push(`reload ${file.slice(root.length + 1)}`);
      envs.push(env);
    },
    scale: async (name, count) => {
      calls.push(`scale ${name} ${count}`);
    },
    action: async (verb, names) => {
      calls.push(`${verb} ${names.join(' ')}`);
    },
    kill: async () => {},
  };
}

describe('launchRelease', () => {
  it('reloads an online package with the release in its environment, and scales only when asked', async () => {
    const pm2 = fakePm2([[instance(3, 'online', 2)]]);
    const launch = await launchRelease(pm2, config(), pkg({ instances: 2 }), 'abc123abc123', { scale: true });
    expect(pm2.calls).toEqual(['reload .opsctl/deploy/pm2/worker.json', 'scale worker 2']);
    expect(pm2.envs[0]).toMatchObject({
      OPSCTL_RELEASE: 'abc123abc123',
      DATABASE_URL: 'postgres://app@db/app',
      QUEUE: 'jobs',
    });
    expect(launch).toMatchObject({ action: 'reloaded', fresh: false, baseline: new Map([[3, 2]]) });

    const restart = fakePm2([[instance(3, 'online'), instance(4, 'online')]]);
    await launchRelease(restart, config(), pkg(), 'abc123abc123', {
      running: [instance(3, 'online'), instance(4, 'online')],
    });
    expect(restart.calls).toEqual(['reload .opsctl/deploy/pm2/worker.json']);
  });

  it('starts afresh when no instance is online, deleting errored ones first', async () => {
    const pm2 = fakePm2([[instance(0, 'errored', 10)]]);
    const launch = await launchRelease(pm2, config(), pkg(), 'abc123abc123');
    expect(pm2.calls).toEqual(['delete worker', 'start .opsctl/deploy/pm2/worker.json']);
    expect(launch).toMatchObject({ action: 'started', fresh: true });

    const first = fakePm2([[]]);
    await launchRelease(first, config(), pkg(), 'abc123abc123', { running: [] });
    expect(first.calls).toEqual(['start .opsctl/deploy/pm2/worker.json']);
  });
});

describe('waitLaunched', () => {
  const gate = async (lists: Pm2Instance[][], running: Pm2Instance[], timeoutMs = 5_000) => {
    const pm2 = fakePm2([running, ...lists]);
    const launch = await launchRelease(pm2, config(), pkg(), 'abc123abc123');
    const started = Date.now();
    return { problem: await waitLaunched(pm2, launch, timeoutMs), ms: Date.now() - started };
  };

  it('fails at once when a reloaded instance restarts, or a started one errors', async () => {
    const restarted = await gate([[instance(1, 'online', 0)], [instance(1, 'online', 1)]], [instance(1, 'online')]);
    expect(restarted.problem).toBe('instance 1 crashed and was restarted');
    expect(restarted.ms).toBeLessThan(2_000);
    const errored = await gate([[instance(0, 'errored', 10)]], []);
    expect(errored.problem).toBe('instance 0 is errored (10 restarts)');
    const other = await gate([[instance(0, 'online', 0, 'fedcba987654')]], []);
    expect(other.problem).toBe('instance 0 runs release fedcba987654, not abc123abc123');
  });

  it('fails at once on code that failed to load, read from the release’s own log lines', async () => {
    const logs = join(root, '.opsctl', 'pm2', 'logs');
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, 'worker-error.log'), 'an older release said something\n');
    const pm2 = fakePm2([[], [instance(0, 'online')]]);
    const launch = await launchRelease(pm2, config(), pkg(), 'abc123abc123');
    writeFileSync(
      join(logs, 'worker-error.log'),
      [
        'an older release said something',
        'You have triggered an unhandledRejection, you may have forgotten to catch a Promise rejection:',
        'Error: no queue configured',
        '    at file:///app/worker.js:1:7',
        '    at ModuleJob.run (node:internal/modules/esm/module_job:271:25)',
        '',
      ].join('\n'),
    );
    expect(await waitLaunched(pm2, launch, 5_000)).toBe(
      'the release failed to load its code (Error: no queue configured)',
    );
  });

  it('is healthy when a portless package stays online through the stable probes', async () => {
    const healthy = await gate([[instance(0, 'online', 0)]], []);
    expect(healthy.problem).toBeUndefined();
  });
});
