import { execFile, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BIN, type CliResult, hasStackTrace, opsctl } from '../helpers/cli.js';
import { makeInitApp } from '../helpers/init-app.js';

// What an operator trying `opsctl init` on real apps runs into (README, "`opsctl init`").

const apps: Array<{ root: string; remove(): void }> = [];
afterEach(() => {
  for (const app of apps.splice(0)) {
    chmodSync(app.root, 0o755);
    app.remove();
  }
});
function app(extra: Record<string, string> = {}) {
  const made = makeInitApp(extra);
  apps.push(made);
  return made.root;
}
const env = { CI: undefined };
const pkg = (name: string, scripts: Record<string, string> = {}, more: Record<string, unknown> = {}) =>
  `${JSON.stringify({ name, private: true, scripts, ...more }, null, 2)}\n`;

describe('opsctl init: writing', () => {
  it('two runs at once: one writes the config, the other is exit 2 and replaces nothing', async () => {
    const root = app();
    const runs = await Promise.all([1, 2, 3].map(() => opsctl(['init', '--yes', '--json'], { cwd: root, env })));
    const codes = runs.map((r) => r.exitCode).sort();
    expect(codes, runs.map((r) => r.stderr).join('\n')).toEqual([0, 2, 2]);
    for (const r of runs.filter((r) => r.exitCode === 2)) {
      expect(JSON.parse(r.stdout).error.message).toMatch(/^opsctl\.config\.yaml (exists already|appeared while)/);
    }
    const winner = JSON.parse(runs.find((r) => r.exitCode === 0)!.stdout);
    expect(winner.files[0]).toEqual({ path: 'opsctl.config.yaml', action: 'written' });
    expect(parse(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).packages.api.port).toBe(4100);
    expect(readdirSync(root).filter((f) => f.includes('opsctl-tmp'))).toEqual([]);
  });

  it('a CI file that cannot be written leaves nothing half-written (exit 3, no stack trace)', async () => {
    const root = app({ '.github': 'a file where the folder belongs\n' });
    const res = await opsctl(['init', '--yes', '--scripts', '--ci', 'github'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(3);
    expect(res.stderr).toContain('✖ Could not write .github/workflows/opsctl.yml');
    expect(res.stderr).toContain('Nothing was written.');
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
    expect(existsSync(join(root, 'opsctl.schema.json'))).toBe(false);
    expect(JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8')).scripts.migrate).toBeUndefined();
    // so the next run is not refused for a config the failed one left
    expect(readdirSync(root).sort()).toEqual(['.github', 'api', 'shared', 'web']);
  });

  it.skipIf(!canRunUnprivileged)(
    `a read-only app folder is exit 3 with a clear message, under --json one document${UNPRIVILEGED_NOTE}`,
    async () => {
      const root = app();
      chmodSync(root, 0o555);
      const res = await asUnprivileged(['-C', root, 'init', '--yes', '--json']);
      expect(res.exitCode, res.stderr).toBe(3);
      const doc = JSON.parse(res.stdout);
      expect(doc.error).toMatchObject({ code: 'WRITE_FAILED' });
      expect(doc.error.message).toBe(`Could not write opsctl.config.yaml in ${root}: permission denied.`);
      expect(res.stderr).not.toContain('looks like a bug');
      expect(hasStackTrace(res.stderr)).toBe(false);
    },
  );

  it('a symlinked package.json stays a link, and the file it points at gets the scripts', async () => {
    const root = app({ 'manifests/api.json': readFileSync(join(app(), 'api', 'package.json'), 'utf8') });
    rmSync(join(root, 'api', 'package.json'));
    symlinkSync('../manifests/api.json', join(root, 'api', 'package.json'));
    const res = await opsctl(['init', '--yes', '--scripts'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(lstatSync(join(root, 'api', 'package.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(join(root, 'manifests', 'api.json'), 'utf8')).scripts.migrate).toBe(
      'opsctl -C .. migrate',
    );
  });

  it('--force says which config under another name it removed', async () => {
    const root = app({ 'opsctl.config.json': '{ "packages": { "api": { "path": "api" } } }\n' });
    const res = await opsctl(['init', '--yes', '--force', '--json'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).files).toContainEqual({ path: 'opsctl.config.json', action: 'removed' });
    const human = await opsctl(['init', '--yes', '--force'], {
      cwd: app({ 'opsctl.config.yml': 'packages: {}\n' }),
      env,
    });
    expect(human.stdout).toContain('✔ removed opsctl.config.yml');
  });
});

describe('opsctl init: what it reads', () => {
  it.skipIf(!canRunUnprivileged)(
    `an unreadable package.json is named as unreadable, not as invalid JSON${UNPRIVILEGED_NOTE}`,
    async () => {
      const root = app();
      chmodSync(join(root, 'web', 'package.json'), 0o000);
      chmodSync(root, 0o755);
      const res = await asUnprivileged(['-C', root, 'init', '--yes', '--json']);
      chmodSync(join(root, 'web', 'package.json'), 0o644);
      expect(res.exitCode, res.stderr).toBe(2);
      const { error } = JSON.parse(res.stdout);
      expect(error.message).toMatch(/web\/package\.json: cannot be read \(EACCES\)\.$/);
      expect(error.hint).not.toContain('syntax');
      expect(hasStackTrace(res.stderr)).toBe(false);
    },
  );
});

describe('opsctl init: a package.json of the wrong shape', () => {
  it.each([
    ['[]', 'not a JSON object'],
    ['"backend"', 'not a JSON object'],
    ['{ "name": "web", "scripts": "node web.js" }', '"scripts" must map each script name to a command line'],
    ['{ "name": "web", "scripts": { "start": 3000 } }', '"scripts" must map each script name to a command line'],
  ])('%s is exit 2 naming the file, not a crash', async (manifest, message) => {
    const root = app({ 'web/package.json': manifest });
    const res = await opsctl(['init', '--yes', '--json'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(2);
    expect(JSON.parse(res.stdout).error.message).toContain(`web/package.json: ${message}`);
    expect(res.stderr).not.toContain('looks like a bug');
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
  });
});

describe('opsctl init: what it writes is valid', () => {
  it('packages in folders of the same name, or with a space, get distinct keys the config accepts', async () => {
    const root = app({
      'services/api/package.json': pkg('api-v2', { start: 'PORT=4200 node index.js' }),
      'my admin/package.json': pkg('admin', { start: 'PORT=4300 node index.js' }),
    });
    const res = await opsctl(['init', '--yes'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const packages = parse(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).packages;
    expect(packages.api).toEqual({ path: 'api', port: 4100, health: '/healthz' });
    expect(packages['services-api']).toEqual({ path: 'services/api', port: 4200 });
    expect(packages['my-admin']).toEqual({ path: 'my admin', port: 4300 });
    const doctor = await opsctl(['doctor', '--only', 'config', '--json'], { cwd: root });
    expect(JSON.parse(doctor.stdout).checks[0], doctor.stdout).toMatchObject({ id: 'config', status: 'pass' });
    const shown = JSON.parse((await opsctl(['config', 'show', '--json'], { cwd: root })).stdout);
    expect(shown.packages.map((p: { name: string }) => p.name).sort()).toEqual([
      'api',
      'my-admin',
      'services-api',
      'shared',
      'web',
    ]);
  });

  it('--scripts: a debug script whose entry has a space in its name runs that file', async () => {
    const config = 'packages:\n  admin: { path: admin }\ndatabase:\n  migrations: admin/migrations\n';
    const root = app({
      'opsctl.config.yaml': config,
      'admin/package.json': pkg('admin', { start: 'node "src/main server.js"' }, { main: 'src/main server.js' }),
      'admin/src/main server.js': "console.log('started ' + process.argv[1]);\n",
      'admin/migrations/0001_a.sql': 'select 1;\n',
    });
    const res = await opsctl(['init', '--scripts'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const script: string = JSON.parse(readFileSync(join(root, 'admin', 'package.json'), 'utf8')).scripts.debug;
    expect(script).toBe("node --inspect=127.0.0.1:9229 'src/main server.js'");
    // as npm runs it (sh -c), without the inspector: the one file, not "src/main" and "server.js"
    const ran = await new Promise<string>((done, fail) =>
      execFile('sh', ['-c', script.replace(/--inspect=\S+ /, '')], { cwd: join(root, 'admin') }, (e, out) =>
        e ? fail(e) : done(out),
      ),
    );
    expect(ran.trim()).toBe(`started ${join(root, 'admin', 'src', 'main server.js')}`);
  });

  it('the package whose own "migrate" script is its tool does not get a "rollback" that calls itself', async () => {
    // `opsctl rollback` runs that package's "rollback" script (tool "scripts"): `opsctl rollback` in it would loop
    const root = app();
    const manifest = JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8'));
    manifest.scripts.migrate = './bin/migrate-all';
    writeFileSync(join(root, 'api', 'package.json'), JSON.stringify(manifest, null, 2));
    const res = await opsctl(['init', '--yes', '--scripts', '--json'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const doc = JSON.parse(res.stdout);
    expect(doc.detected.tool.value).toBe('scripts');
    expect(doc.scripts.changes.find((c: { name: string }) => c.name === 'rollback')).toMatchObject({
      added: false,
      reason: expect.stringContaining('migration tool'),
    });
    const scripts = JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8')).scripts;
    expect(scripts.rollback).toBeUndefined();
    expect(scripts.migrate).toBe('./bin/migrate-all');
    const human = await opsctl(['init', '--yes', '--scripts', '--force', '--dry-run'], { cwd: root, env });
    expect(human.stdout).toMatch(/not added script "rollback" in api: its "migrate" script is its migration tool/);
  });
});

describe('opsctl init --ci', () => {
  it('an npm workspaces app is installed once at its root, where its lockfile is', async () => {
    const made = makeInitApp({
      'package.json': pkg('mono', {}, { workspaces: ['packages/*'] }),
      'package-lock.json': '{ "lockfileVersion": 3, "packages": {} }\n',
      'packages/api/package.json': pkg('@mono/api', { start: 'node index.js' }, { dependencies: { '@mono/lib': '*' } }),
      'packages/lib/package.json': pkg('@mono/lib'),
    });
    apps.push(made);
    const res = await opsctl(['init', '--yes', '--ci', 'github'], { cwd: made.root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const workflow = parse(readFileSync(join(made.root, '.github', 'workflows', 'opsctl.yml'), 'utf8'));
    const install = workflow.jobs.checks.steps.find((s: { name?: string }) => s.name === 'Install the packages');
    // `npm install --prefix packages/api` would look @mono/lib up on the registry (404)
    expect(install.run).toBe('npm ci\n');
  });

  it('a package folder with a space is one shell word in the install step', async () => {
    const root = app({ 'my admin/package.json': pkg('admin', { start: 'node index.js' }) });
    const res = await opsctl(['init', '--yes', '--ci', 'gitlab'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const pipeline = parse(readFileSync(join(root, '.gitlab-ci.yml'), 'utf8'));
    expect(pipeline.checks.script).toContain("npm install --prefix 'my admin'");
  });
});

/**
 * Root reads and writes anywhere, so as root these cases run the CLI as nobody, which needs a checkout nobody can
 * read (a clone under a 0700 folder is not): else they are skipped, and the test name says why.
 */
const runsAsRoot = process.getuid?.() === 0;
const canRunUnprivileged =
  !runsAsRoot ||
  spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, '--version'])
    .status === 0;
const UNPRIVILEGED_NOTE = canRunUnprivileged ? '' : ' (skipped: run as root from a checkout user nobody cannot read)';

/** The CLI as a user who may not write the app folder (root may write anywhere: then as nobody). */
function asUnprivileged(args: string[]): Promise<CliResult> {
  const [cmd, argv] = runsAsRoot
    ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args]]
    : [process.execPath, [BIN, ...args]];
  return new Promise((done) => {
    execFile(cmd, argv, { env: { ...process.env, NO_COLOR: '1', CI: '', HOME: '/tmp' } }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      done({ exitCode: typeof code === 'number' ? code : error ? 1 : 0, stdout, stderr });
    });
  });
}
