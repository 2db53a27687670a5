import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';

/**
 * README "Quick start" runs as written: its shell block, taken from the README itself, run by bash (`set -e`: any
 * command that fails fails the test) in a copy of the repository's examples/shop, with `opsctl` on PATH the way
 * `npm link` puts it there (a symlink named opsctl to bin/opsctl.js in a bin folder on PATH).
 */
const repo = join(import.meta.dirname, '..', '..');
const MARKER = '<!-- quick-start:';

/** The first ```sh block after the marker comment, as README readers copy it. */
function quickStartBlock(readme: string): string {
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no ${MARKER} block`);
  const fence = /```sh\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!fence?.[1]) throw new Error('README.md: no ```sh block after the quick-start marker');
  return fence[1];
}

let dir: string;
const run = (script: string, env: Record<string, string | undefined> = {}) => {
  const { DATABASE_URL: _d, OPSCTL_ENV: _e, PM2_HOME: _p, REDIS_URL: _r, ...base } = process.env;
  return spawnSync('bash', ['-c', `set -euo pipefail\n${script}`], {
    cwd: dir,
    env: {
      ...base,
      CI: '1',
      NO_COLOR: '1',
      PATH: `${join(dir, 'bin')}:${dirname(process.execPath)}:${base.PATH}`,
      ...env,
    },
    encoding: 'utf8',
    timeout: 180_000,
  });
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-quick-start-'));
  chmodSync(dir, 0o755); // as root the embedded server runs as `postgres`, which must enter the folder
  cpSync(join(repo, 'examples', 'shop'), join(dir, 'examples', 'shop'), {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|\.opsctl|\.env)$/.test(src),
  });
  mkdirSync(join(dir, 'bin'));
  symlinkSync(BIN, join(dir, 'bin', 'opsctl')); // what `npm link` makes in npm's global bin folder
});
afterAll(() => {
  if (!dir) return;
  // the block ends with `db stop`; a failed run may have left the server up
  if (existsSync(join(dir, 'examples', 'shop', '.opsctl', 'pg'))) run('opsctl -C examples/shop db stop --yes');
  rmSync(dir, { recursive: true, force: true });
});

describe('README quick start', () => {
  it('says how to put opsctl on PATH before using it', () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const setUp = readme.slice(readme.indexOf('## Set up'), readme.indexOf(MARKER));
    for (const way of ['npm link', 'npm install -g', '"ops": "opsctl"']) expect(setUp).toContain(way);
  });

  it('runs as written on a copy of the example app', () => {
    const block = quickStartBlock(readFileSync(join(repo, 'README.md'), 'utf8'));
    expect(block).toMatch(/^opsctl /m);
    const res = run(block);
    const output = res.stdout + res.stderr;
    expect(res.status, output).toBe(0);
    expect(output).toContain('✔ Applied 3 migration(s).');
    expect(output).toMatch(/0003_add_order_status\s+applied/);
    expect(output).toMatch(/✔ --yes: Roll back 0003_add_order_status on postgres@127\.0\.0\.1:\d+\/app \(embedded\)\./);
    expect(output).toContain('✔ PostgreSQL stopped.');
  }, 240_000);

  it('a wrong example fails: the extracted block runs under set -e', () => {
    const res = run(
      `${quickStartBlock(readFileSync(join(repo, 'README.md'), 'utf8')).split('\n')[0]}\nopsctl migrate --no-such-flag\necho unreachable`,
    );
    expect(res.status).toBe(2);
    expect(res.stdout).not.toContain('unreachable');
  });
});
