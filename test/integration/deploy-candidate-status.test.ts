import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/cli.js';
import { createPm2App, type Pm2App } from '../helpers/pm2-app.js';
import { waitFor } from '../helpers/wait.js';

/**
 * A deploy's candidate (`<pkg>~candidate`) is part of that deploy, not a stray (README, "`opsctl status`"): while
 * the deploy runs, status and doctor do not call it "not in the config"; one left by a deploy that was killed is
 * named as such, and `stop --orphans` deletes it.
 */
let app: Pm2App;
let deploy: ChildProcess | undefined;
const SERVER =
  "require('node:http').createServer((q, s) => s.end('ok')).listen(process.env.PORT);\nprocess.on('SIGINT', () => process.exit(0));\n";

beforeAll(async () => {
  app = await createPm2App('candidate-status', { files: { 'api/server.js': SERVER } });
  const res = await app.run(['deploy']);
  expect(res.exitCode, res.stderr).toBe(0);
}, 120_000);
afterAll(() => {
  if (deploy?.exitCode === null) deploy.kill('SIGKILL');
  app?.cleanup();
});

/** Start a deploy whose candidate stays in its health gate (it listens after 60 s); wait until it runs. */
async function startSlowCandidate(): Promise<void> {
  deploy = spawn(process.execPath, [BIN, '-C', app.dir, 'deploy', '--health-timeout', '90000'], {
    env: { ...process.env, NO_COLOR: '1' }, // the hermetic setup cleared PM2_HOME: the app's own
    stdio: 'ignore',
  });
  await waitFor('the candidate', async () => (await app.instances()).some((p) => p.name === 'api~candidate'), 30_000);
}

describe('a candidate in status', () => {
  it('is the running deploy’s candidate, not a stray; once its deploy is killed, a leftover that stop --orphans deletes', async () => {
    // the new release listens only after 60 s: its candidate stays in the health gate while we look
    const file = join(app.dir, 'api', 'server.js');
    writeFileSync(file, readFileSync(file, 'utf8').replace('.listen(process.env.PORT)', ''));
    writeFileSync(file, `${readFileSync(file, 'utf8')}const s = require('node:http').createServer(() => {});\n`);
    writeFileSync(file, `${readFileSync(file, 'utf8')}setTimeout(() => s.listen(process.env.PORT), 60000);\n`);
    await startSlowCandidate();

    const status = await app.run(['status']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).not.toContain('not in the config');
    expect(status.stderr).not.toContain('not in the config');
    const json = JSON.parse((await app.run(['status', '--json'])).stdout);
    const row = json.packages.find((p: { name: string }) => p.name === 'api~candidate');
    // the instance by PM2's id, as doctor and logs name it
    expect(status.stdout).toMatch(new RegExp(`api~candidate\\s+${row.instances[0].id}\\s+\\d+\\s+candidate`));
    expect(status.stderr).toContain(
      `api~candidate: a release proving itself for the deploy running now (pid ${deploy!.pid}`,
    );
    expect(row).toMatchObject({ candidate: true, deployPid: deploy!.pid });
    expect(row.orphan).toBeUndefined();
    expect((await app.check('processes')).status).toBe('pass');

    deploy!.kill('SIGKILL'); // as an OOM killer would: no clean-up runs
    await waitFor('the deploy to die', () => deploy!.exitCode !== null || deploy!.signalCode !== null, 10_000);
    const left = await app.run(['status']);
    expect(left.stderr).toContain('api~candidate: left by a deploy that did not finish');
    expect(left.stderr).toContain('`opsctl stop --orphans`');
    expect(await app.check('processes')).toMatchObject({
      status: 'warn',
      message: 'api~candidate was left by a deploy that did not finish',
    });
    const stopped = await app.run(['stop', '--orphans', '--json']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout).packages).toEqual([
      {
        name: 'api~candidate',
        action: 'stopped and deleted (a candidate left by a deploy that did not finish)',
        instances: 1,
      },
    ]);
    expect((await app.instances()).map((p) => `${p.name}:${p.state}`)).toEqual(['api:online']);
    expect((await app.check('processes')).status).toBe('pass');
  }, 120_000);

  it('one left by a killed deploy is deleted by `opsctl stop` too (stop frees every port of the app)', async () => {
    const file = join(app.dir, 'api', 'server.js');
    writeFileSync(file, `${readFileSync(file, 'utf8')}// another release\n`);
    await startSlowCandidate();
    deploy!.kill('SIGKILL');
    await waitFor('the deploy to die', () => deploy!.exitCode !== null || deploy!.signalCode !== null, 10_000);
    const stopped = await app.run(['stop', '--json']);
    expect(stopped.exitCode, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout).packages).toContainEqual({
      name: 'api~candidate',
      action: 'deleted (a candidate left by a deploy that did not finish)',
      instances: 0,
    });
    expect((await app.instances()).map((p) => `${p.name}:${p.state}`)).toEqual(['api:stopped']);
  }, 120_000);

  it('one left by a killed deploy is deleted by the next deploy even when that deploy changes nothing', async () => {
    expect((await app.run(['start'])).exitCode).toBe(0);
    const file = join(app.dir, 'api', 'server.js');
    writeFileSync(file, `${readFileSync(file, 'utf8')}// a third release\n`);
    await startSlowCandidate();
    deploy!.kill('SIGKILL');
    await waitFor('the deploy to die', () => deploy!.exitCode !== null || deploy!.signalCode !== null, 10_000);
    writeFileSync(file, SERVER); // back to the live release: its start step is skipped
    const res = await app.run(['deploy', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const start = JSON.parse(res.stdout).packages[0].steps.find((s: { step: string }) => s.step === 'start');
    expect(start.status).toBe('skipped');
    expect((await app.instances()).map((p) => `${p.name}:${p.state}`)).toEqual(['api:online']);
  }, 120_000);
});
