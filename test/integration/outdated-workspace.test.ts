import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byRisk } from '../../src/deps/bump.js';
import { parseNpmOutdated } from '../../src/deps/npm-outdated.js';
import { npm } from '../fixtures/deps/install-app.js';
import { opsctl } from '../helpers/cli.js';

let root: string;

function write(path: string, json: object): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), JSON.stringify(json));
}

/**
 * An npm workspace laid out as `npm install` leaves it (built by hand: a registry install is not possible offline):
 * a's ms is hoisted to the root's node_modules, b keeps its own older ms, members are linked from the root.
 */
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-ws-'));
  write('package.json', { name: 'ws-root', private: true, workspaces: ['packages/*'] });
  write('packages/a/package.json', {
    name: 'a',
    version: '1.0.0',
    dependencies: { ms: '^2.0.0', 'is-number': '^6.0.0' },
  });
  write('packages/b/package.json', { name: 'b', version: '1.0.0', dependencies: { ms: '^1.0.0' } });
  write('node_modules/ms/package.json', { name: 'ms', version: '2.0.0' });
  write('packages/b/node_modules/ms/package.json', { name: 'ms', version: '1.0.0' });
  symlinkSync('../packages/a', join(root, 'node_modules/a'));
  symlinkSync('../packages/b', join(root, 'node_modules/b'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

async function npmAnswer(packages: string[]) {
  const lists = await Promise.all(
    packages.map(async (p) => {
      const dir = join(root, 'packages', p);
      const res = await npm(dir, ['outdated', '--json']).catch((e: { stdout: string }) => e);
      const dev = new Set(
        Object.keys(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).devDependencies ?? {}),
      );
      return parseNpmOutdated(res.stdout, p, dev);
    }),
  );
  return lists.flat().sort(byRisk);
}

describe('opsctl outdated in an npm workspace (real npm, real registry)', () => {
  it('finds a dependency hoisted to the workspace root, as npm does', async () => {
    const [expected, res] = await Promise.all([npmAnswer(['a', 'b']), opsctl(['outdated', '--json', '-C', root])]);
    expect(res.stderr).toBe('');
    const doc = JSON.parse(res.stdout);
    expect(doc.dependencies).toEqual(expected);
    const line = (p: string, n: string) =>
      doc.dependencies.find((d: { package: string; name: string }) => d.package === p && d.name === n);
    expect(line('a', 'ms')).toMatchObject({ current: '2.0.0', location: join(root, 'node_modules/ms') });
    expect(line('b', 'ms')).toMatchObject({ current: '1.0.0', location: join(root, 'packages/b/node_modules/ms') });
    expect(line('a', 'is-number')).toMatchObject({ current: null });
  });
});
