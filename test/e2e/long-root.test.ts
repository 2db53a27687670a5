import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { killPm2 } from '../helpers/pm2-kill.js';

/** PM2's unix sockets live in its home: an app root too long for them is said up front (README, "Deploy"). */
const base = mkdtempSync(join(tmpdir(), 'opsctl-long-'));
const root = join(base, 'a'.repeat(60), 'b'.repeat(40));
const home = join(root, '.opsctl', 'pm2');
const shortHome = mkdtempSync(join(tmpdir(), 'pm2-'));
afterAll(() => {
  killPm2(home); // none should have started
  killPm2(shortHome);
  rmSync(shortHome, { recursive: true, force: true });
  rmSync(base, { recursive: true, force: true });
});

describe('a very long app root', () => {
  it('deploy exits 2 at once saying to set a shorter PM2_HOME, and leaves no daemon; a short PM2_HOME works', async () => {
    const files: Record<string, string> = {
      'opsctl.config.yaml': 'packages:\n  api: {}\n',
      'api/package.json': JSON.stringify({ name: 'api', scripts: { start: 'node server.js' } }),
      'api/server.js': 'setInterval(() => {}, 1000);\n',
    };
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    const env = { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined };
    const started = Date.now();
    const res = await opsctl(['-C', root, 'deploy'], { env });
    expect(res.exitCode).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(res.stderr).toMatch(
      /PM2 cannot run with its home at .*: its socket .*rpc\.sock would be \d+ bytes, over the 10\d/,
    );
    expect(res.stderr).toContain('Set PM2_HOME to a shorter folder');
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(existsSync(join(home, 'pm2.pid'))).toBe(false);
    const json = await opsctl(['-C', root, 'status', '--json'], { env });
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout).error.message).toContain('PM2 cannot run with its home');
    const short = await opsctl(['-C', root, 'deploy'], { env: { ...env, PM2_HOME: shortHome }, timeoutMs: 90_000 });
    expect(short.exitCode, short.stderr).toBe(0);
  }, 120_000);
});
