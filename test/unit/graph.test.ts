import { describe, expect, it } from 'vitest';
import { createGates, orderPackages, packageWaves, waitForDependencies } from '../../src/graph/package-graph.js';
import type { AppPackage } from '../../src/packages/types.js';

const pkg = (name: string, dependsOn: string[] = []): AppPackage => ({
  name,
  dir: `/app/${name}`,
  path: name,
  scripts: {},
  dependencies: {},
  devDependencies: {},
  dependsOn,
  env: {},
  outputs: ['dist'],
});

describe('package graph', () => {
  it('puts dependencies first and keeps the config order otherwise', () => {
    const order = orderPackages([
      pkg('frontend', ['backend']),
      pkg('backend', ['shared']),
      pkg('shared'),
      pkg('worker', ['shared']),
    ]);
    expect(order.map((p) => p.name)).toEqual(['shared', 'backend', 'worker', 'frontend']);
  });

  it('groups independent packages into waves', () => {
    const waves = packageWaves([
      pkg('frontend', ['backend']),
      pkg('backend', ['shared']),
      pkg('shared'),
      pkg('worker', ['shared']),
    ]);
    expect(waves.map((w) => w.map((p) => p.name))).toEqual([['shared'], ['backend', 'worker'], ['frontend']]);
  });

  it('ignores dependencies that are not selected', () => {
    expect(orderPackages([pkg('frontend', ['backend'])]).map((p) => p.name)).toEqual(['frontend']);
  });

  it('reports a cycle as a config error naming it (exit 2)', () => {
    try {
      orderPackages([pkg('a', ['b']), pkg('b', ['c']), pkg('c', ['a']), pkg('d')]);
      expect.unreachable();
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
      expect((error as Error).message).toContain('a → b → c → a');
    }
  });

  it('lets a dependent wait for its dependencies and learn which failed', async () => {
    const packages = [pkg('backend'), pkg('frontend', ['backend'])];
    const gates = createGates(packages);
    const waiting = waitForDependencies(packages[1]!, gates);
    gates.get('backend')!.reject(new Error('health'));
    expect(await waiting).toBe('backend');
    const ok = createGates(packages);
    ok.get('backend')!.resolve();
    expect(await waitForDependencies(packages[1]!, ok)).toBeUndefined();
  });
});
