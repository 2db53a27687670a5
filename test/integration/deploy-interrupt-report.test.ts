import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A build ended by SIGINT is reported as interrupted, not as a build that failed on its own (`npm run build failed
 * (exit 1)` would send an operator looking for a bug in the build): README, "One at a time".
 */
let app: Pm2App;
beforeAll(async () => {
  app = await createPm2App('interrupt-report', {
    files: {
      'api/package.json': JSON.stringify({
        name: 'api',
        version: '1.0.0',
        private: true,
        scripts: { start: 'node server.js', build: 'node build.js' },
      }),
      'api/build.js':
        "require('node:fs').writeFileSync(require('node:path').join(__dirname, 'building'), '');\nsetTimeout(() => {}, 60000);\n",
      'api/server.js': "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\n",
    },
  });
});
afterAll(() => app?.cleanup());

describe('SIGINT during the build', () => {
  it('exits 130 with the build step reported as interrupted (--json)', async () => {
    const child = spawn(process.execPath, [BIN, '-C', app.dir, 'deploy', '--json'], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor('the build to start', () => existsSync(join(app.dir, 'api', 'building')), 60_000);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    const doc = JSON.parse(stdout);
    expect(doc.error.code).toBe('INTERRUPTED');
    const build = doc.packages[0].steps.find((s: { step: string }) => s.step === 'build');
    expect(build.status).toBe('failed');
    expect(build.reason).toBe('Interrupted.');
    expect(build.reason).not.toContain('exit 1');
  }, 90_000);
});
