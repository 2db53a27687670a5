import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byRisk } from '../../src/deps/bump.js';
import { parseNpmOutdated } from '../../src/deps/npm-outdated.js';
import { copyFixtureApp, npm } from '../fixtures/deps/install-app.js';
import { hasStackTrace, opsctl } from '../helpers/cli.js';

const PACKAGES = ['backend', 'frontend', 'shared', 'worker'];
let root: string;

beforeAll(async () => {
  root = await copyFixtureApp({ install: true });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** npm's own answer, package by package, in the same run (so registry changes cannot break the test). */
async function npmAnswer(packages: string[]) {
  const lists = await Promise.all(
    packages.map(async (p) => {
      const dir = join(root, p);
      const res = await npm(dir, ['outdated', '--json']).catch((e: { code: number; stdout: string }) => e);
      const dev = new Set(
        Object.keys(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).devDependencies ?? {}),
      );
      return parseNpmOutdated(res.stdout, p, dev);
    }),
  );
  return lists.flat().sort(byRisk);
}

describe('opsctl outdated against npm outdated --json (real npm, real registry)', () => {
  it('gives npm’s answer for all four packages at once', async () => {
    const [expected, res] = await Promise.all([npmAnswer(PACKAGES), opsctl(['outdated', '--json', '-C', root])]);
    expect(res.stderr).toBe('');
    expect(res.exitCode).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'outdated', ok: true, exitCode: 0, skipped: [] });
    expect(typeof doc.durationMs).toBe('number');
    expect(doc.dependencies).toEqual(expected);
    // the cases the fixtures were built for
    const line = (p: string, n: string) =>
      doc.dependencies.find((d: { package: string; name: string }) => d.package === p && d.name === n);
    expect(line('backend', 'left-pad')).toMatchObject({ current: null, kind: 'prod' }); // not installed
    expect(line('backend', 'kleur')).toMatchObject({ kind: 'dev', current: '3.0.0' });
    expect(line('frontend', 'ms')).toMatchObject({ current: '2.1.3', wanted: '2.0.0' }); // wanted below current
    expect(line('shared', 'ms')).toMatchObject({ current: null }); // no lockfile, nothing installed
    expect(line('shared', 'kleur')).toBeUndefined(); // missing dev dependency: npm leaves it out
  });

  it('prints one table, riskiest first, and the summary on stderr', async () => {
    const res = await opsctl(['outdated', '-C', root]);
    expect(res.exitCode).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^package\s+dependency\s+kind\s+current\s+wanted\s+latest\s+bump$/);
    expect(lines[1]).toMatch(/\smajor$/);
    expect(res.stdout).toMatch(/^backend\s+left-pad\s+prod\s+MISSING\s/m);
    expect(res.stderr).toMatch(/^\d+ outdated: \d+ major, \d+ minor, \d+ patch, 3 not installed\.$/m);
  });

  it('--fail-on: exit 1 at or above the level, 0 below it; positional packages select', async () => {
    const [major, frontendMajor, frontendMinor, sharedAny, sharedPatch] = await Promise.all([
      opsctl(['outdated', '--fail-on', 'major', '-C', root]),
      opsctl(['outdated', 'frontend', '--fail-on', 'major', '-C', root]),
      opsctl(['outdated', 'frontend', '--fail-on', 'minor', '-C', root]),
      opsctl(['outdated', '-p', 'shared', '--fail-on', 'any', '-C', root]),
      opsctl(['outdated', '-p', 'shared', '--fail-on', 'patch', '-C', root]),
    ]);
    expect(major.exitCode).toBe(1);
    expect(major.stderr).toMatch(/✖ \d+ outdated at or above --fail-on major\./);
    expect(frontendMajor.exitCode).toBe(0); // frontend: ms (minor) and escape-html (patch) only
    expect(frontendMinor.exitCode).toBe(1);
    expect(sharedAny.exitCode).toBe(1); // not installed counts under any
    expect(sharedPatch.exitCode).toBe(0);
  });

  it('bad input: an unknown package or --fail-on level is exit 2 without a stack trace', async () => {
    const [pkg, level] = await Promise.all([
      opsctl(['outdated', 'nope', '-C', root]),
      opsctl(['outdated', '--fail-on', 'huge', '-C', root]),
    ]);
    expect(pkg.exitCode).toBe(2);
    expect(pkg.stderr).toContain('Unknown package: nope.');
    expect(level.exitCode).toBe(2);
    expect(level.stderr).toContain("'huge' is invalid");
    expect(hasStackTrace(pkg.stderr + level.stderr)).toBe(false);
  });
});
