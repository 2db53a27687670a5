import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { trackChildren } from '../helpers/children.js';
import { BIN } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

// A pipeline interrupted in an npm step (its script must not outlive opsctl) and in an opsctl step whose JSON
// document was being captured (stdout must still carry exactly one document: the pipeline's).
let app: string;
let server: Server; // accepts connections and never answers: doctor's postgres check waits on it
const sockets = new Set<Socket>();
const children = trackChildren();

beforeAll(async () => {
  server = createServer((s) => sockets.add(s));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  app = mkdtempSync(join(tmpdir(), 'opsctl-pipeline-int-'));
  mkdirSync(join(app, 'backend'));
  const sleep = `node -e "require('fs').writeFileSync(process.env.PIDFILE, String(process.pid)); setInterval(() => {}, 1000)"`;
  writeFileSync(join(app, 'backend', 'package.json'), JSON.stringify({ name: 'backend', scripts: { sleep } }));
  writeFileSync(
    join(app, 'opsctl.config.json'),
    JSON.stringify({
      pipelines: {
        script: ['config show', 'npm:backend:sleep', 'config show'],
        check: ['config show', 'doctor --only postgres --timeout 20000', 'config show'],
      },
    }),
  );
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((done) => server.close(done));
  rmSync(app, { recursive: true, force: true });
});

function start(pipeline: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, 'run', pipeline, '--json'], {
    cwd: app,
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  children.push(child);
  let stdout = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return { child, exited, stdout: () => stdout };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it.each([
  ['SIGINT', 130, 'INTERRUPTED'],
  ['SIGTERM', 143, 'TERMINATED'],
] as const)('%s in an npm step: exit %i, one document, the script stopped', async (signal, exitCode, code) => {
  const pidFile = join(app, `pid-${signal}`);
  const run = start('script', { PIDFILE: pidFile });
  await waitFor('the script to start', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').length > 0);
  const pid = Number(readFileSync(pidFile, 'utf8'));
  expect(alive(pid)).toBe(true);
  run.child.kill(signal);
  expect(await run.exited).toBe(exitCode);
  expect(JSON.parse(run.stdout())).toMatchObject({
    command: 'run',
    ok: false,
    exitCode,
    error: { code },
    pipeline: 'script',
    steps: [{ step: 'config show', exitCode: 0, result: { command: 'config show' } }],
    interruptedStep: 'npm:backend:sleep',
    skipped: ['config show'],
  });
  await waitFor('the script to stop', () => !alive(pid), 10_000);
});

it('SIGINT while an opsctl step’s document is captured: stdout is the pipeline’s one document', async () => {
  const port = (server.address() as { port: number }).port;
  const before = sockets.size;
  const run = start('check', { DATABASE_URL: `postgres://app:pipelinepass@127.0.0.1:${port}/app` });
  await waitFor('doctor to connect', () => sockets.size > before);
  run.child.kill('SIGINT');
  expect(await run.exited).toBe(130);
  const doc = JSON.parse(run.stdout()); // the captured first step's document must not be there too
  expect(doc).toMatchObject({ command: 'run', exitCode: 130, error: { code: 'INTERRUPTED' } });
  expect(run.stdout()).not.toContain('pipelinepass');
});
