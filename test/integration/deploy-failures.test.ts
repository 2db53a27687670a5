import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasStackTrace } from '../helpers/cli.js';
import { assertNoSecrets, createShopApp, type DeployJson, health, type ShopApp, steps } from '../helpers/deploy-app.js';

/** Deploys that must fail (or skip) cleanly: a shared library, an unusable PM2 home, a release that fails to load. */

let shop: ShopApp;

const LIB_SKIPPED = 'no start script (a library: installed and built only)';

beforeAll(async () => {
  shop = await createShopApp('deploy-failures');
  // a shared library beside the shop: a build script, no start script
  const lib = join(shop.dir, 'lib');
  mkdirSync(lib);
  writeFileSync(
    join(lib, 'package.json'),
    JSON.stringify({ name: 'shop-lib', version: '1.0.0', private: true, scripts: { build: 'node build.js' } }),
  );
  writeFileSync(
    join(lib, 'build.js'),
    "import { mkdirSync, writeFileSync } from 'node:fs';\nmkdirSync('dist', { recursive: true });\nwriteFileSync('dist/index.js', 'export const lib = 1;\\n');\n",
  );
  const config = join(shop.dir, 'opsctl.config.yaml');
  writeFileSync(config, readFileSync(config, 'utf8').replace('packages:\n', 'packages:\n  lib:\n    path: lib\n'));
});

afterAll(async () => {
  await shop?.cleanup();
});

const libSteps = (doc: DeployJson) => doc.packages.find((p) => p.name === 'lib')!.steps;

describe('deploy with bad input', () => {
  it('stops in the preflight when PM2 cannot start (PM2_HOME is a file): exit 3, nothing installed', async () => {
    const home = join(shop.dir, 'pm2-home-is-a-file');
    writeFileSync(home, 'not a folder\n');
    const res = await shop.run(['deploy'], { env: { PM2_HOME: home } });
    assertNoSecrets(res.stdout, res.stderr);
    expect(res.exitCode, res.stderr).toBe(3);
    expect(res.stderr).toContain(`✖ PM2 cannot run: its home ${home} is a file, not a folder; nothing was deployed.`);
    expect(res.stderr).toContain('→ Point PM2_HOME at a writable folder, or unset it');
    expect(hasStackTrace(res.stderr)).toBe(false);
    for (const dir of ['backend/node_modules', 'frontend/dist', 'lib/dist', '.opsctl/deploy', '.opsctl/releases']) {
      expect(existsSync(join(shop.dir, dir)), dir).toBe(false);
    }
    expect(readFileSync(home, 'utf8')).toBe('not a folder\n');

    const status = await shop.run(['status'], { env: { PM2_HOME: home } });
    expect(status.exitCode).toBe(3);
    expect(status.stderr).toContain(`✖ PM2 cannot run: its home ${home} is a file, not a folder.`);
    expect(status.stderr).toContain('→ Point PM2_HOME at a writable folder');
    expect(hasStackTrace(status.stderr)).toBe(false);
    const json = await shop.run(['status', '--json'], { env: { PM2_HOME: home } });
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 3, error: { code: 'PM2_HOME' } });
  });

  it('deploys a library (install, build) and reports start and health as skipped, saying why', async () => {
    const res = await shop.run(['deploy', 'lib', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    // the backend's migrations are not this deploy's business: a library deploy leaves the database alone
    const reported = libSteps(JSON.parse(res.stdout));
    expect(reported.map((s) => s.step)).toEqual(['install', 'build', 'start', 'health']);
    expect(reported).toMatchObject([
      { step: 'install', status: 'skipped', reason: 'no dependencies' },
      { step: 'build', status: 'done' },
      { step: 'start', status: 'skipped', reason: LIB_SKIPPED },
      { step: 'health', status: 'skipped', reason: LIB_SKIPPED },
    ]);
    expect(existsSync(join(shop.dir, 'lib', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(shop.dir, '.opsctl', 'pm2'))).toBe(false); // nothing to start: PM2 was not asked
  });

  it('`start lib` is a usage error (exit 2) with a hint', async () => {
    const res = await shop.run(['start', 'lib']);
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('✖ lib has no start script, so there is no process to manage.');
    expect(res.stderr).toContain('→ Add a "start" script to its package.json, or leave it out.');
    expect(hasStackTrace(res.stderr)).toBe(false);
  });
});

describe('a release whose backend fails while loading its code (PM2 cluster mode)', () => {
  it('first release: everything starts, the library is skipped', async () => {
    const res = await shop.run(['deploy', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout) as DeployJson;
    expect(steps(doc, 'lib')).toMatchObject({ start: 'skipped', health: 'skipped' });
    expect(steps(doc, 'backend')).toMatchObject({ start: 'done', health: 'done' });
    expect(await health(shop.ports.backend)).toBe(200);
  });

  it('fails the health gate at once (not after --health-timeout), shows the error, and the previous release serves', async () => {
    const server = join(shop.dir, 'backend', 'server.js');
    const original = readFileSync(server, 'utf8');
    // thrown while the module loads: PM2 logs the rejected import() and keeps the instance "online", never listening
    writeFileSync(server, `throw new Error('release-2 failed to load: ' + process.env.API_TOKEN);\n${original}`);
    try {
      const started = Date.now();
      const res = await shop.run(['deploy', '--json', '--health-timeout', '20000']);
      const elapsed = Date.now() - started;
      assertNoSecrets(res.stdout, res.stderr);
      expect(res.exitCode, res.stderr).toBe(3);
      const doc = JSON.parse(res.stdout) as DeployJson;
      const backend = doc.packages.find((p) => p.name === 'backend')!;
      const gate = backend.steps.find((s) => s.step === 'health')!;
      expect(gate.status).toBe('failed');
      expect(gate.reason).toContain('failed to load its code (Error: release-2 failed to load: ****)');
      // the release fails as a candidate beside the live one (README, "Deploy"): no PM2 reload to wait for, and
      // nothing replaced, so nothing put back
      expect(gate.durationMs!).toBeLessThan(3_000);
      expect(elapsed).toBeLessThan(15_000);
      expect(backend.rolledBackTo).toBeUndefined();
      expect(gate.reason).toContain('the live release was not touched');
      expect(backend.logTail?.join('\n')).toContain('Error: release-2 failed to load: ****');
      expect(await health(shop.ports.backend)).toBe(200);
    } finally {
      writeFileSync(server, original);
    }
  });
});

describe('start and restart share deploy’s start/reload path and its crash detection', () => {
  const config = () => join(shop.dir, 'opsctl.config.yaml');
  let original: string;
  // an address no interface has: the backend logs "cannot listen" and exits, and PM2 restarts it until it gives up
  const breakHost = () =>
    writeFileSync(
      config(),
      original.replace('    instances: 1\n', '    instances: 1\n    env:\n      HOST: 192.0.2.1\n'),
    );

  beforeAll(() => {
    original = readFileSync(config(), 'utf8');
  });

  afterAll(() => {
    writeFileSync(config(), original);
  });

  it('restarts a healthy backend with a reload', async () => {
    const res = await shop.run(['restart', 'backend', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).packages).toEqual([
      { name: 'backend', action: 'reloaded', instances: 1, envChanges: [] },
    ]);
    expect(await health(shop.ports.backend)).toBe(200);
  });

  it('a restart into an environment that crashes the backend exits 3 (not after the 30 s timeout) with its log lines', async () => {
    breakHost();
    const started = Date.now();
    const res = await shop.run(['restart', 'backend', '--json']);
    const elapsed = Date.now() - started;
    assertNoSecrets(res.stdout, res.stderr);
    expect(res.exitCode, res.stderr).toBe(3);
    const error = JSON.parse(res.stdout).error as { code: string; message: string; hint: string };
    expect(error.code).toBe('HEALTH');
    expect(error.message).toMatch(
      /^backend was reloaded but is not healthy: instance \d+ (crashed and was restarted|is errored \(\d+ restarts\))\.\nIts last log lines:\n/,
    );
    expect(error.message).toContain('bind EADDRNOTAVAIL 192.0.2.1');
    expect(error.hint).toBe('`opsctl logs backend` shows more.');
    // the config's new env key was named before the reload, and rides along beside the error (by name, no value)
    expect(JSON.parse(res.stdout).packages).toEqual([
      { name: 'backend', envChanges: [{ name: 'HOST', change: 'added' }] },
    ]);
    // PM2's reload itself waits for the new worker to listen (listen_timeout: 8 s, templates/pm2/app.json)
    expect(elapsed).toBeLessThan(15_000);
  });

  it('a start from stopped into that environment fails the same way, printing the log lines', async () => {
    expect((await shop.run(['stop', 'backend'])).exitCode).toBe(0);
    const res = await shop.run(['start', 'backend']);
    assertNoSecrets(res.stdout, res.stderr);
    expect(res.exitCode, res.stderr).toBe(3);
    expect(res.stderr).toMatch(
      /✖ backend was started but is not healthy: instance \d+ (crashed and was restarted|is errored)/,
    );
    expect(res.stderr).toContain('Its last log lines:');
    expect(res.stderr).toContain('cannot listen on port');
    expect(res.stderr).toContain('→ `opsctl logs backend` shows more.');
    expect(hasStackTrace(res.stderr)).toBe(false);
  });

  it('with the environment fixed, start brings the backend back', async () => {
    writeFileSync(config(), original);
    expect((await shop.run(['stop', 'backend'])).exitCode).toBe(0);
    const res = await shop.run(['start', 'backend', '--json']);
    expect(res.exitCode, res.stderr).toBe(0);
    // the failed runs recorded nothing: the environment is the one the backend last ran healthy with
    expect(JSON.parse(res.stdout).packages).toEqual([
      { name: 'backend', action: 'started', instances: 1, envChanges: [] },
    ]);
    expect(await health(shop.ports.backend)).toBe(200);
  });
});
