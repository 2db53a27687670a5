import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPm2 } from '../../src/pm2/cli.js';
import { createRunner } from '../../src/process/runner.js';
import { opsctl } from '../helpers/cli.js';
import { killPm2 } from '../helpers/pm2-kill.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A worker (no port, so no candidate) whose deploy changes only its environment, and the new value makes it crash:
 * the failed deploy puts the release back with the environment it ran with (README, "`opsctl deploy`": a failure
 * puts the previous release back), instead of deleting the worker and `current` as if it had no previous release.
 */
let dir: string;
const home = () => join(dir, '.opsctl', 'pm2');
const run = (args: string[]) =>
  opsctl(['-C', dir, ...args], {
    env: { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined },
    timeoutMs: 90_000,
  });
const instances = async () => (await createPm2(createRunner(), home(), dir).jlist()).filter((p) => p.name === 'worker');
const WORKER = `if (process.env.WORKER_MODE === 'broken') { console.error('cannot run in mode broken'); process.exit(1); }
require('node:fs').writeFileSync(require('node:path').join(__dirname, '..', '..', '..', '..', 'mode-' + process.pid), String(process.env.WORKER_MODE));
setInterval(() => {}, 1000);
process.on('SIGINT', () => process.exit(0));
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'opsctl-env-rollback-'));
  mkdirSync(join(dir, 'worker'));
  writeFileSync(join(dir, 'opsctl.config.yaml'), 'packages:\n  worker:\n    path: worker\n    instances: 2\n');
  writeFileSync(
    join(dir, 'worker', 'package.json'),
    JSON.stringify({ name: 'worker', version: '1.0.0', private: true, scripts: { start: 'node worker.js' } }),
  );
  writeFileSync(join(dir, 'worker', 'worker.js'), WORKER);
  writeFileSync(join(dir, '.env'), 'WORKER_MODE=good\n');
  const res = await run(['deploy']);
  expect(res.exitCode, res.stderr).toBe(0);
}, 120_000);
afterAll(() => {
  killPm2(home());
  rmSync(dir, { recursive: true, force: true });
});

describe('a failed deploy that changed only the environment', () => {
  it('puts the release back with the environment it ran with; the worker keeps running', async () => {
    writeFileSync(join(dir, '.env'), 'WORKER_MODE=broken\n');
    const res = await run(['deploy', '--json']);
    expect(res.exitCode, res.stdout + res.stderr).toBe(3);
    const doc = JSON.parse(res.stdout);
    expect(doc.packages[0].rolledBackTo).toBeDefined();
    expect(existsSync(join(dir, '.opsctl', 'releases', 'worker', 'current'))).toBe(true);
    await waitFor('the worker back online', async () => {
      const list = await instances();
      return list.length === 2 && list.every((p) => p.state === 'online');
    });
    // each running instance got the environment it ran with before (WORKER_MODE=good), not the broken one
    for (const p of await instances()) {
      expect(readFileSync(join(dir, `mode-${p.pid}`), 'utf8')).toBe('good');
    }
  }, 120_000);
});
