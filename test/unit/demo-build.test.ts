import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_OUTPUTS, isBuilt } from '../../examples/demo-build.js';

const repo = resolve(import.meta.dirname, '../..');

/** `npm run demo` builds opsctl only when the build's output is missing (it once checked a file no longer written). */
describe('the demo’s "already built" check', () => {
  it('looks at files the build writes: the bundle bin/opsctl.js runs, and the rendered help', () => {
    const bin = readFileSync(join(repo, 'bin', 'opsctl.js'), 'utf8');
    const entry = /from '\.\.\/(dist\/[^']+)'/.exec(bin)?.[1];
    expect(BUILD_OUTPUTS).toContain(entry);
    const build = readFileSync(join(repo, 'scripts', 'build.js'), 'utf8');
    expect(build).toContain("new URL('dist/help.txt', root)");
    expect(BUILD_OUTPUTS).toContain('dist/help.txt');
    // npm test builds first, so the checkout is built: the demo must skip its build step here
    expect(isBuilt(repo)).toBe(true);
  });

  it('is false when any of them is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'opsctl-demo-build-'));
    try {
      expect(isBuilt(dir)).toBe(false);
      const [first, ...rest] = BUILD_OUTPUTS;
      mkdirSync(dirname(join(dir, first!)), { recursive: true });
      writeFileSync(join(dir, first!), '');
      expect(isBuilt(dir)).toBe(rest.length === 0);
      for (const file of rest) {
        mkdirSync(dirname(join(dir, file)), { recursive: true });
        writeFileSync(join(dir, file), '');
      }
      expect(isBuilt(dir)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is the check the demo’s build step uses', () => {
    const demo = readFileSync(join(repo, 'examples', 'demo.js'), 'utf8');
    expect(demo).toContain("import { isBuilt } from './demo-build.js';");
    expect(demo).toMatch(/title: 'Build opsctl',\s+skip: \(\) => isBuilt\(repo\)/);
  });
});
