import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hasStackTrace, opsctl } from '../helpers/cli.js';
import { FIXTURE_PASSWORD, makeInitApp } from '../helpers/init-app.js';

const apps: Array<{ remove(): void }> = [];
afterEach(() => {
  for (const app of apps.splice(0)) app.remove();
});
function app(extra: Record<string, string> = {}) {
  const made = makeInitApp(extra);
  apps.push(made);
  return made.root;
}
/** No CI, no TTY: `init` must be told --yes. */
const env = { CI: undefined };

describe('opsctl init --yes on an app without a config', () => {
  it('writes what it detected, and opsctl loads and validates it', async () => {
    const root = app();
    const res = await opsctl(['init', '--yes'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain('✔ written opsctl.config.yaml');
    // what it found is shown with where it came from
    expect(res.stderr).toMatch(/port\s+4100\s+api\/src\/server\.js:3/);
    expect(res.stderr).toMatch(/port\s+3100\s+script "start" \(PORT=3100\)/);
    expect(res.stderr).toMatch(/health\s+\/healthz\s+api\/src\/server\.js:7/);
    expect(res.stderr).toMatch(/database\s+\$\{PG_URL\}\s+pg in api, PG_URL in api\/\.env\.example/);
    const text = readFileSync(join(root, 'opsctl.config.yaml'), 'utf8');
    expect(text.split('\n')[0]).toBe('# yaml-language-server: $schema=./opsctl.schema.json');
    expect(parse(text)).toEqual({
      packages: {
        api: { path: 'api', port: 4100, health: '/healthz' },
        shared: { path: 'shared' },
        web: { path: 'web', port: 3100, health: '/health' },
      },
      database: { url: '${PG_URL}', migrations: 'api/migrations' },
      redis: { url: '${REDIS_URL}' },
    });
    // the schema the modeline points at is opsctl's own
    const printed = await opsctl(['config', 'schema'], { cwd: root });
    expect(JSON.parse(readFileSync(join(root, 'opsctl.schema.json'), 'utf8'))).toEqual(JSON.parse(printed.stdout));

    // opsctl's own loader reads it: packages, ports, database settings as written
    const shown = await opsctl(['config', 'show', '--json'], {
      cwd: root,
      env: { PG_URL: 'postgres://u@127.0.0.1:1/x' },
    });
    expect(shown.exitCode, shown.stderr).toBe(0);
    const doc = JSON.parse(shown.stdout);
    expect(doc.file).toBe(join(root, 'opsctl.config.yaml'));
    expect(doc.packages.map((p: { name: string; port?: number }) => [p.name, p.port])).toEqual([
      ['api', 4100],
      ['shared', undefined],
      ['web', 3100],
    ]);
    // what the config leaves to opsctl is still inferred: api uses shared through file:
    expect(doc.packages[0].dependsOn).toEqual(['shared']);
    expect(doc.database).toMatchObject({
      url: 'postgres://u@127.0.0.1:1/x',
      source: 'config',
      migrations: 'api/migrations',
    });
    const doctor = await opsctl(['doctor', '--only', 'config', '--json'], { cwd: root });
    expect(JSON.parse(doctor.stdout).checks).toEqual([expect.objectContaining({ id: 'config', status: 'pass' })]);
  });

  it('never shows a secret from a .env file or a script', async () => {
    // the secret is in api/.env.example (a URL's password), web's start script (API_TOKEN=…) and api's own
    // migrate script, which init shows as the migration tool's evidence and keeps under --scripts
    const root = app();
    const manifest = JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8'));
    manifest.scripts.migrate = `PGPASSWORD=${FIXTURE_PASSWORD} ./bin/migrate-all`;
    writeFileSync(join(root, 'api', 'package.json'), JSON.stringify(manifest, null, 2));
    const human = await opsctl(['init', '--yes', '--scripts', '--dry-run'], { cwd: root, env });
    expect(human.exitCode, human.stderr).toBe(0);
    expect(human.stderr).toMatch(
      /migration tool\s+scripts\s+"migrate" script: PGPASSWORD=\*\*\*\* \.\/bin\/migrate-all/,
    );
    expect(human.stdout).toContain('kept script "migrate" in api (the package has one)');
    const json = await opsctl(['init', '--yes', '--scripts', '--json'], { cwd: root, env });
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).detected.tool).toMatchObject({ value: 'scripts', package: 'api' });
    for (const output of [human.stdout, human.stderr, json.stdout, json.stderr]) {
      expect(output).not.toContain(FIXTURE_PASSWORD);
    }
    expect(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).not.toContain(FIXTURE_PASSWORD);
  });

  it('--json prints one document naming what it detected and wrote', async () => {
    const root = app();
    const res = await opsctl(['init', '--yes', '--json'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'init', ok: true, exitCode: 0, root });
    expect(doc.files).toEqual([
      { path: 'opsctl.config.yaml', action: 'written' },
      { path: 'opsctl.schema.json', action: 'written' },
    ]);
    expect(doc.detected.packages.find((p: { name: string }) => p.name === 'api')).toMatchObject({
      starts: true,
      port: { value: 4100, source: 'api/src/server.js:3' },
      health: { value: '/healthz' },
    });
    expect(doc.detected.migrations).toMatchObject({ value: 'api/migrations', package: 'api' });
  });

  it('--dry-run shows the config and writes nothing', async () => {
    const root = app();
    const res = await opsctl(['init', '--yes', '--dry-run'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stdout).toContain('# opsctl.config.yaml (--dry-run: not written)');
    expect(res.stdout).toContain('migrations: api/migrations');
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
  });
});

describe('opsctl init on an app with a config', () => {
  const CONFIG = 'packages:\n  api: { path: api, port: 5000 }\n';

  it('refuses to overwrite it without --force (exit 2 naming the file), and writes nothing', async () => {
    const root = app({ 'opsctl.config.yaml': CONFIG });
    const res = await opsctl(['init', '--yes'], { cwd: root, env });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('✖ opsctl.config.yaml exists already; opsctl init does not overwrite it.');
    expect(res.stderr).toContain('→ Pass --force');
    expect(hasStackTrace(res.stderr)).toBe(false);
    expect(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).toBe(CONFIG);
    expect(existsSync(join(root, 'opsctl.schema.json'))).toBe(false);
  });

  it('names a JSON config too, and --json is one document', async () => {
    const root = app({ 'opsctl.config.json': '{"packages":{"api":{"path":"api"}}}' });
    const res = await opsctl(['init', '--yes', '--json'], { cwd: root, env });
    expect(res.exitCode).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'init', ok: false, exitCode: 2, error: { code: 'CONFIG' } });
    expect(doc.error.message).toContain('opsctl.config.json exists already');
  });

  it('--force replaces it (and a config under another name goes, so the new one is the one read)', async () => {
    const root = app({ 'opsctl.config.yaml': CONFIG, 'opsctl.config.json': '{}' });
    const res = await opsctl(['init', '--yes', '--force', '--json'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).files[0]).toEqual({ path: 'opsctl.config.yaml', action: 'replaced' });
    expect(existsSync(join(root, 'opsctl.config.json'))).toBe(false);
    expect(parse(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).packages.api.port).toBe(4100);
    const shown = JSON.parse((await opsctl(['config', 'show', '--json'], { cwd: root })).stdout);
    expect(shown.file).toBe(join(root, 'opsctl.config.yaml'));
  });

  it('--ci writes only the CI file, from the config', async () => {
    const root = app({
      'opsctl.config.yaml': `${CONFIG}database:\n  url: \${APP_DB:-postgres://localhost/app}\n  migrations: api/migrations\n`,
    });
    const CONFIG_TEXT = readFileSync(join(root, 'opsctl.config.yaml'), 'utf8');
    const before = statSync(join(root, 'opsctl.config.yaml')).mtimeMs;
    const res = await opsctl(['init', '--ci', 'gitlab', '--json'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).files).toEqual([{ path: '.gitlab-ci.yml', action: 'written' }]);
    expect(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).toBe(CONFIG_TEXT);
    expect(statSync(join(root, 'opsctl.config.yaml')).mtimeMs).toBe(before);
    expect(existsSync(join(root, 'opsctl.schema.json'))).toBe(false);
    // the config's one package is what the pipeline installs
    const ci = parse(readFileSync(join(root, '.gitlab-ci.yml'), 'utf8'));
    expect(ci.checks.script[0]).toBe('npm install --prefix api');
    // the migrations job gives the service's URL to the variable the config's database.url names as well
    expect(ci.migrations.variables.APP_DB).toBe(ci.migrations.variables.DATABASE_URL);
    // a second run does not overwrite the CI file without --force
    const again = await opsctl(['init', '--ci', 'gitlab'], { cwd: root, env });
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toContain('✖ .gitlab-ci.yml exists already');
    // --force replaces the CI file; the config is still left as it is
    const forced = await opsctl(['init', '--ci', 'gitlab', '--force', '--json'], { cwd: root, env });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).files).toEqual([{ path: '.gitlab-ci.yml', action: 'replaced' }]);
    expect(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).toBe(CONFIG_TEXT);
  });
});

describe('opsctl init --scripts', () => {
  it('adds migrate, rollback and debug to the package holding the migrations, keeping its formatting', async () => {
    const root = app();
    const res = await opsctl(['init', '--yes', '--scripts'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const text = readFileSync(join(root, 'api', 'package.json'), 'utf8');
    expect(text).toMatch(/^ {4}"scripts": \{$/m); // the file's own 4-space indentation
    expect(JSON.parse(text).scripts).toEqual({
      start: 'node src/server.js',
      test: 'node --test',
      migrate: 'opsctl -C .. migrate',
      rollback: 'opsctl -C .. rollback',
      debug: 'node --inspect=127.0.0.1:9229 src/server.js',
    });
    expect(res.stdout).toContain('added script "migrate" in api: opsctl -C .. migrate');
    // the other packages are left alone
    expect(JSON.parse(readFileSync(join(root, 'web', 'package.json'), 'utf8')).scripts).toEqual({
      start: `PORT=3100 API_TOKEN=${FIXTURE_PASSWORD} node web.js`,
    });
  });

  it('keeps the CRLF line endings, tabs and missing final newline of a package.json', async () => {
    const text = '{\r\n\t"name": "api",\r\n\t"scripts": {\r\n\t\t"start": "node src/server.js"\r\n\t}\r\n}';
    const root = app({ 'api/package.json': text });
    const res = await opsctl(['init', '--yes', '--scripts'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const written = readFileSync(join(root, 'api', 'package.json'), 'utf8');
    expect(written).toBe(
      [
        '{',
        '\t"name": "api",',
        '\t"scripts": {',
        '\t\t"start": "node src/server.js",',
        '\t\t"migrate": "opsctl -C .. migrate",',
        '\t\t"rollback": "opsctl -C .. rollback",',
        '\t\t"debug": "node --inspect=127.0.0.1:9229 src/server.js"',
        '\t}',
        '}',
      ].join('\r\n'),
    );
  });

  it('reads and keeps a byte-order mark at the start of a package.json, as npm does', async () => {
    const text = '\uFEFF{\n  "name": "api",\n  "scripts": { "start": "node src/server.js" }\n}\n';
    const root = app({ 'api/package.json': text });
    const res = await opsctl(['init', '--yes', '--scripts'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const written = readFileSync(join(root, 'api', 'package.json'), 'utf8');
    expect(written.startsWith('\uFEFF{\n  "name": "api",')).toBe(true);
    expect(JSON.parse(written.slice(1)).scripts.migrate).toBe('opsctl -C .. migrate');
  });

  it('keeps scripts the package has already', async () => {
    const root = app();
    const manifest = JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8'));
    manifest.scripts.migrate = 'node-pg-migrate up';
    writeFileSync(join(root, 'api', 'package.json'), JSON.stringify(manifest, null, 2));
    const res = await opsctl(['init', '--yes', '--scripts', '--force', '--json'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    const scripts = JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8')).scripts;
    expect(scripts.migrate).toBe('node-pg-migrate up');
    expect(scripts.rollback).toBe('opsctl -C .. rollback');
  });

  it("on an app with a config, adds only the scripts, with the config's debugPort and migrations", async () => {
    const config =
      'packages:\n  api: { path: api, debugPort: 9333 }\n  web: { path: web }\ndatabase:\n  migrations: api/migrations\n';
    const root = app({ 'opsctl.config.yaml': config });
    const res = await opsctl(['init', '--scripts', '--json'], { cwd: root, env });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).files).toEqual([{ path: 'api/package.json', action: 'written' }]);
    const scripts = JSON.parse(readFileSync(join(root, 'api', 'package.json'), 'utf8')).scripts;
    expect(scripts.debug).toBe('node --inspect=127.0.0.1:9333 src/server.js');
    expect(readFileSync(join(root, 'opsctl.config.yaml'), 'utf8')).toBe(config);
  });

  it('without migrations is exit 2, and nothing is written', async () => {
    const root = app();
    const { rmSync } = await import('node:fs');
    rmSync(join(root, 'api', 'migrations'), { recursive: true });
    const res = await opsctl(['init', '--yes', '--scripts'], { cwd: root, env });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(
      '✖ --scripts adds migrate, rollback and debug scripts to the package that holds the migrations',
    );
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
  });
});

describe('opsctl init: bad input', () => {
  it('an unknown --ci value is exit 2, under --json one document', async () => {
    const root = app();
    const res = await opsctl(['init', '--yes', '--ci', 'jenkins', '--json'], { cwd: root, env });
    expect(res.exitCode).toBe(2);
    const doc = JSON.parse(res.stdout);
    expect(doc).toMatchObject({ command: 'init', ok: false, exitCode: 2 });
    expect(doc.error.message).toContain("'jenkins' is invalid");
    expect(doc.error.message).toContain('github, gitlab');
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
  });

  it('without a terminal and without --yes is exit 2 naming --yes', async () => {
    const root = app();
    const res = await opsctl(['init'], { cwd: root, env });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(
      '✖ opsctl init needs you to confirm what it found, and there is no terminal to ask on.',
    );
    expect(res.stderr).toContain('→ Pass --yes');
    expect(existsSync(join(root, 'opsctl.config.yaml'))).toBe(false);
    const json = await opsctl(['init', '--json'], { cwd: root, env });
    expect(json.exitCode).toBe(2);
    expect(JSON.parse(json.stdout).error.hint).toContain('--yes');
  });

  it('an app folder that does not exist is exit 2', async () => {
    const res = await opsctl(['init', '--yes', '-C', '/nonexistent/opsctl-init'], { env });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain('✖ The app folder "/nonexistent/opsctl-init" does not exist.');
  });

  it('-C naming a file (the package.json, say) says it is no folder', async () => {
    const root = app();
    const res = await opsctl(['init', '--yes', '-C', join(root, 'api', 'package.json')], { env });
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toContain(`✖ "${join(root, 'api', 'package.json')}" is a file, not the app folder.`);
    expect(res.stderr).toContain(`→ Pass the folder that holds it: -C ${join(root, 'api')}`);
  });

  it('a folder without packages is exit 2', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const empty = mkdtempSync(join(tmpdir(), 'opsctl-init-empty-'));
    try {
      const res = await opsctl(['init', '--yes'], { cwd: empty, env });
      expect(res.exitCode).toBe(2);
      expect(res.stderr).toContain('✖ No npm package found in');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
