import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const parent = mkdtempSync(join(tmpdir(), 'opsctl build '));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe('npm run build', () => {
  it('works from a clone whose path has a space (README, "Set up")', () => {
    const clone = join(parent, 'my app');
    for (const part of ['bin', 'commands', 'src', 'scripts', 'templates', 'package.json']) {
      cpSync(join(repo, part), join(clone, part), { recursive: true });
    }
    symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'));
    const build = spawnSync(process.execPath, ['scripts/build.js'], { cwd: clone, encoding: 'utf8' });
    expect(build.stderr).not.toContain('Could not resolve');
    expect(build.status).toBe(0);
    expect(existsSync(join(clone, 'dist', 'cli', 'index.js'))).toBe(true);
    const version = spawnSync(process.execPath, ['bin/opsctl.js', '--help'], { cwd: clone, encoding: 'utf8' });
    expect(version.status).toBe(0);
    expect(version.stdout).toContain('Exit codes:');
  }, 60_000);
});
