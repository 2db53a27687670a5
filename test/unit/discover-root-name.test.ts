import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discoverPackages } from '../../src/packages/discover.js';

/** The root as the app's only package is named after its package.json (`outdated` once called it "app"). */
describe('the root package discovered without a config', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const rootWith = (manifest: Record<string, unknown>) => {
    dir = mkdtempSync(join(tmpdir(), 'opsctl-root-name-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ scripts: { start: 'node server.js' }, ...manifest }));
    return discoverPackages(dir, undefined, 'opsctl.config.yaml').map((p) => [p.name, p.path]);
  };

  it('takes its package.json name', () => {
    expect(rootWith({ name: 'shop' })).toEqual([['shop', '.']]);
  });
  it('without the scope, as the name is also a PM2 process and log file name', () => {
    expect(rootWith({ name: '@acme/shop-api' })).toEqual([['shop-api', '.']]);
  });
  it('is "app" when package.json has no name', () => {
    expect(rootWith({})).toEqual([['app', '.']]);
  });
});
