import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsctl } from '../helpers/cli.js';
import { killPm2 } from '../helpers/pm2-kill.js';
import { freePort } from '../helpers/tcp.js';

/**
 * No shell anywhere, PM2 included (README, "`opsctl deploy`"): an app whose path, and whose package folders, hold a
 * space and a `;` deploys in PM2's cluster mode (`node server.js`) and fork mode (`npm start`), and answers.
 */

const SERVER = `const http = require('node:http');
http
  .createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(req.url === '/health' ? 'ok' : 'hello from ' + process.env.NAME);
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
`;

let parent: string;
let root: string;
const ports = { web: 0, worker: 0 };

beforeAll(async () => {
  parent = mkdtempSync(join(tmpdir(), 'opsctl-paths-'));
  root = join(parent, 'my app; v2');
  ports.web = await freePort();
  ports.worker = await freePort();
  const files: Record<string, string> = {
    'opsctl.config.yaml': [
      'packages:',
      '  web:',
      '    path: "web app; 1"',
      `    port: ${ports.web}`,
      '    health: /health',
      '    instances: 2',
      '    env: { NAME: web }',
      '  worker:',
      '    path: "fork app; 2"',
      `    port: ${ports.worker}`,
      '    health: /health',
      '    env: { NAME: worker }',
      '',
    ].join('\n'),
    // `node <file>`: PM2 cluster mode
    'web app; 1/package.json': JSON.stringify({
      name: 'web',
      version: '1.0.0',
      scripts: { start: 'node server.js', build: 'node build.js' },
    }),
    'web app; 1/server.js': SERVER,
    'web app; 1/build.js': "require('node:fs').writeFileSync('built.txt', __dirname);\n",
    // anything else runs as `npm start` in PM2 fork mode
    'fork app; 2/package.json': JSON.stringify({
      name: 'worker',
      version: '1.0.0',
      scripts: { start: 'exec node server.js' },
    }),
    'fork app; 2/server.js': SERVER,
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
});

afterAll(() => {
  killPm2(join(root, '.opsctl', 'pm2'));
  rmSync(parent, { recursive: true, force: true });
});

const run = (args: string[]) =>
  opsctl(['-C', root, ...args], {
    env: { PM2_HOME: undefined, DATABASE_URL: undefined, REDIS_URL: undefined, CI: 'true' },
    timeoutMs: 90_000,
  });

async function get(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(5_000) });
  return `${res.status} ${await res.text()}`;
}

describe('an app in "my app; v2" with package folders "web app; 1" and "fork app; 2"', () => {
  it('builds, and deploys in cluster and fork mode: exit 0, both health gates pass', async () => {
    const mode = (name: string) =>
      JSON.parse(readFileSync(join(root, '.opsctl', 'deploy', 'pm2', `${name}.json`), 'utf8')).apps[0].exec_mode;
    const res = await run(['deploy', '--json', '--health-timeout', '20000']);
    expect(res.exitCode, `${res.stderr}\n${res.stdout}`).toBe(0);
    const doc = JSON.parse(res.stdout) as {
      packages: Array<{ name: string; steps: Array<{ step: string; status: string }> }>;
    };
    for (const name of ['web', 'worker']) {
      const steps = doc.packages.find((p) => p.name === name)!.steps;
      expect(Object.fromEntries(steps.map((s) => [s.step, s.status])), name).toMatchObject({
        start: 'done',
        health: 'done',
      });
    }
    expect([mode('web'), mode('worker')]).toEqual(['cluster', 'fork']);
    expect(readFileSync(join(root, 'web app; 1', 'built.txt'), 'utf8')).toBe(join(root, 'web app; 1'));
  });

  it('`status` shows every instance online, and each package answers', async () => {
    const res = await run(['status', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as { packages: Array<{ name: string; instances: Array<{ state: string }> }> };
    const states = (name: string) => doc.packages.find((p) => p.name === name)!.instances.map((i) => i.state);
    expect(states('web')).toEqual(['online', 'online']);
    expect(states('worker')).toEqual(['online']);
    expect(await get(ports.web)).toBe('200 hello from web');
    expect(await get(ports.worker)).toBe('200 hello from worker');
  });

  it('a redeploy of a changed release reloads it in place', async () => {
    writeFileSync(join(root, 'web app; 1', 'server.js'), SERVER.replace("'hello from '", "'hello again from '"));
    const res = await run(['deploy', 'web', '--health-timeout', '20000']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(await get(ports.web)).toBe('200 hello again from web');
  });
});
