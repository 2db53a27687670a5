import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { readEmbeddedUrl, writeEmbeddedState } from '../../src/db/embedded-state.js';
import { OpsError } from '../../src/errors.js';
import { clearSecrets, redact } from '../../src/output/redact.js';

let root: string;

function write(path: string, content: string | object): void {
  const file = join(root, path);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
}

function configError(fn: () => unknown): OpsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OpsError);
    return err as OpsError;
  }
  throw new Error('expected a config error');
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'opsctl-config-'));
  write('backend/package.json', {
    name: 'shop-backend',
    scripts: { start: 'node server.js' },
    dependencies: { 'shop-lib': 'file:../lib' },
  });
  write('frontend/package.json', { name: 'shop-frontend', scripts: { build: 'node build.js' } });
  write('lib/package.json', { name: 'shop-lib' });
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
  clearSecrets();
});

describe('package discovery', () => {
  it('finds direct subfolders with zero config and infers dependsOn from file: dependencies', () => {
    const config = loadConfig({ cwd: root, processEnv: {} });
    expect(config.file).toBeUndefined();
    expect(config.packages.map((p) => p.name)).toEqual(['backend', 'frontend', 'lib']);
    expect(config.packages.find((p) => p.name === 'backend')?.dependsOn).toEqual(['lib']);
    expect(config.database).toMatchObject({
      source: 'embedded',
      table: 'opsctl_migrations',
      schema: 'public',
    });
  });

  it('prefers npm workspaces of the root package.json', () => {
    write('package.json', { name: 'root', workspaces: ['services/*'] });
    write('services/api/package.json', { name: 'api', scripts: { start: 'node .' } });
    expect(loadConfig({ cwd: root, processEnv: {} }).packages.map((p) => p.name)).toEqual(['api']);
  });

  it('expands workspace globs as npm does: {a,b}, ** and ! negation, in the order of the patterns', () => {
    write('package.json', { name: 'root', workspaces: ['{apps,services}/*', 'libs/**', '!services/legacy'] });
    write('apps/web/package.json', { name: 'web' });
    write('services/api/package.json', { name: 'api' });
    write('services/legacy/package.json', { name: 'legacy' });
    write('services/notes/README.md', 'no package here');
    write('libs/core/utils/package.json', { name: 'utils' });
    write('libs/core/utils/node_modules/dep/package.json', { name: 'dep' });
    expect(loadConfig({ cwd: root, processEnv: {} }).packages.map((p) => p.path)).toEqual([
      'apps/web',
      'services/api',
      'libs/core/utils',
    ]);
  });

  it('lists plain workspace patterns the way the glob does: dot folders and node_modules left out', () => {
    write('package.json', { name: 'root', workspaces: ['services/*', 'tools/cli/'] });
    for (const dir of ['services/api', 'services/.cache', 'services/node_modules', 'tools/cli']) {
      write(`${dir}/package.json`, { name: dir.replace(/\W/g, '') });
    }
    write('services/docs/README.md', 'no package here');
    const plain = loadConfig({ cwd: root, processEnv: {} }).packages.map((p) => p.path);
    expect(plain).toEqual(['services/api', 'tools/cli']);
    write('package.json', { name: 'root', workspaces: ['service{s,}/*', 'tools/cl?/'] }); // same, through the glob
    expect(loadConfig({ cwd: root, processEnv: {} }).packages.map((p) => p.path)).toEqual(plain);
  });

  it('finds services/* folders and falls back to the root package', () => {
    write('services/worker/package.json', { name: 'worker' });
    expect(loadConfig({ cwd: root, processEnv: {} }).packages.map((p) => p.path)).toContain('services/worker');
    const lone = mkdtempSync(join(tmpdir(), 'opsctl-lone-'));
    writeFileSync(join(lone, 'package.json'), JSON.stringify({ name: 'solo', scripts: { start: 'node .' } }));
    expect(loadConfig({ cwd: lone, processEnv: {} }).packages.map((p) => p.path)).toEqual(['.']);
    rmSync(lone, { recursive: true, force: true });
  });

  it('takes packages from the config first', () => {
    write('opsctl.config.yaml', 'packages:\n  api: { path: backend, port: 4000, health: /health }\n');
    const config = loadConfig({ cwd: root, processEnv: {} });
    expect(config.packages).toHaveLength(1);
    expect(config.packages[0]).toMatchObject({ name: 'api', path: 'backend', port: 4000, health: '/health' });
  });
});

describe('smoke and stabilityWindow (README, "opsctl deploy")', () => {
  it('reads smoke paths as {path, status?} and the stability window in ms', () => {
    write(
      'opsctl.config.yaml',
      'packages:\n  api:\n    path: backend\n    port: 4000\n    smoke: [/api/products, { path: /api/orders, status: 401 }]\n    stabilityWindow: 2000\n',
    );
    expect(loadConfig({ cwd: root, processEnv: {} }).packages[0]).toMatchObject({
      smoke: [{ path: '/api/products' }, { path: '/api/orders', status: 401 }],
      stabilityWindow: 2000,
    });
  });

  it('rejects a smoke path without a leading slash (exit 2)', () => {
    write('opsctl.config.yaml', 'packages:\n  api:\n    path: backend\n    smoke: [api/products]\n');
    const err = configError(() => loadConfig({ cwd: root, processEnv: {} }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('packages.api.smoke.0');
  });
});

describe('config files', () => {
  it('names file, key path and line for a wrong type', () => {
    write('opsctl.config.yaml', 'packages:\n  backend:\n    port: abc\n');
    const err = configError(() => loadConfig({ cwd: root, processEnv: {} }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('opsctl.config.yaml: packages.backend.port: expected a number, got "abc" (line 3)');
  });

  it('names the line in a JSON config too', () => {
    write('opsctl.config.json', JSON.stringify({ packages: { backend: { port: 'abc' } } }, null, 2));
    const err = configError(() => loadConfig({ cwd: root, processEnv: {} }));
    expect(err.message).toBe('opsctl.config.json: packages.backend.port: expected a number, got "abc" (line 4)');
    write('opsctl.config.json', '{\n  "databse": {}\n}\n');
    expect(configError(() => loadConfig({ cwd: root, processEnv: {} })).message).toBe(
      'opsctl.config.json: databse: unknown key "databse" (line 2)',
    );
  });

  it('rejects unknown keys', () => {
    write('opsctl.config.yml', 'databse:\n  url: x\n');
    expect(configError(() => loadConfig({ cwd: root, processEnv: {} })).message).toContain(
      'opsctl.config.yml: databse: unknown key "databse"',
    );
  });

  it('names the line of the key, not of its value, for an unknown key in YAML', () => {
    write('opsctl.config.yml', 'redis:\n  url: redis://127.0.0.1:6379\ndatabse:\n  url: x\n');
    expect(configError(() => loadConfig({ cwd: root, processEnv: {} })).message).toBe(
      'opsctl.config.yml: databse: unknown key "databse" (line 3)',
    );
  });

  it('takes YAML merge keys, and refuses an alias bomb as a config error (exit 2), not a bug', () => {
    write(
      'opsctl.config.yaml',
      'packages:\n  backend: &base { health: /health, instances: 2, port: 4000 }\n  worker: { <<: *base, port: 4001 }\n',
    );
    for (const name of ['backend', 'worker']) write(`${name}/package.json`, { name, scripts: { start: 'node x.js' } });
    const merged = loadConfig({ cwd: root, processEnv: {} });
    expect(merged.packages.find((p) => p.name === 'worker')).toMatchObject({
      port: 4001,
      instances: 2,
      health: '/health',
    });
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (const name of 'bcdefghij')
      bomb.push(
        `${name}: &${name} [${Array(9)
          .fill(`*${String.fromCharCode(name.charCodeAt(0) - 1)}`)
          .join(',')}]`,
      );
    write('opsctl.config.yaml', `${bomb.join('\n')}\n`);
    const bombErr = configError(() => loadConfig({ cwd: root, processEnv: {} }));
    expect(bombErr.exitCode).toBe(2);
    expect(bombErr.code).toBe('CONFIG');
    expect(bombErr.message).toContain('opsctl.config.yaml');
  });

  it('reports malformed YAML with its line', () => {
    write('opsctl.config.yaml', 'packages:\n  backend: [\n');
    const err = configError(() => loadConfig({ cwd: root, processEnv: {} }));
    expect(err.message).toMatch(/^opsctl\.config\.yaml:3: invalid YAML: /);
    expect(err.exitCode).toBe(2);
  });

  it('reports malformed JSON', () => {
    write('opsctl.config.json', '{"packages": {,}}');
    const err = configError(() => loadConfig({ cwd: root, processEnv: {} }));
    expect(err.message).toMatch(/^opsctl\.config\.json(:1)?: invalid JSON/);
  });

  it('names a package path without package.json', () => {
    write('opsctl.config.json', { packages: { api: { path: 'nowhere' } } });
    expect(configError(() => loadConfig({ cwd: root, processEnv: {} })).message).toBe(
      'opsctl.config.json: packages.api.path: no package.json in "nowhere"',
    );
  });

  it('rejects a nonexistent --cwd and --config', () => {
    expect(configError(() => loadConfig({ cwd: join(root, 'missing') })).message).toContain('does not exist');
    expect(configError(() => loadConfig({ cwd: root, config: 'other.yaml' })).message).toContain('other.yaml');
  });
});

describe('environment', () => {
  it('interpolates ${VAR}, reads .env without overriding the real environment, and treats generated-looking .env values as secrets', () => {
    write(
      '.env',
      'DATABASE_URL=postgres://app:dotenvpass@127.0.0.1:5432/shop\nREDIS_URL=redis://127.0.0.1:6380\nPLAIN=fromfile\nSEED=f7Ka93bQx1\n',
    );
    write('opsctl.config.yaml', 'database:\n  url: ${DATABASE_URL}\nredis:\n  url: ${REDIS_URL}\n');
    const config = loadConfig({ cwd: root, processEnv: { REDIS_URL: 'redis://127.0.0.1:6399' } });
    expect(config.database).toMatchObject({
      url: 'postgres://app:dotenvpass@127.0.0.1:5432/shop',
      source: 'config',
    });
    expect(config.redis.url).toBe('redis://127.0.0.1:6399');
    // a plain word stays readable; a generated-looking value is a secret, as a whole token (README, "Output")
    expect(redact('fromfile dotenvpass f7Ka93bQx1 f7Ka93bQx12')).toBe('fromfile **** **** f7Ka93bQx12');
  });

  it('expands ${VAR} inside .env values, and the expanded password stays a secret', () => {
    write(
      '.env',
      'DB_PASSWORD=s3cr3t-pw\nDATABASE_URL=postgres://app:${DB_PASSWORD}@host/db\nHOST_ONLY=${DB_HOST:-db}:5432\n',
    );
    const config = loadConfig({ cwd: root, processEnv: {} });
    expect(config.database).toMatchObject({ url: 'postgres://app:s3cr3t-pw@host/db', source: 'env' });
    expect(config.env.HOST_ONLY).toBe('db:5432');
    expect(redact(`url ${config.database.url} pw s3cr3t-pw`)).not.toContain('s3cr3t-pw');
  });

  it('expands .env references from the real environment first, and never runs $(command)', () => {
    const marker = join(root, 'ran');
    write(
      '.env',
      `DB_PASSWORD=fromfile\nDATABASE_URL=postgres://app:\${DB_PASSWORD}@host/db\nCMD=a$(touch ${marker})b\n`,
    );
    const config = loadConfig({ cwd: root, processEnv: { DB_PASSWORD: 'fromprocess' } });
    expect(config.database.url).toBe('postgres://app:fromprocess@host/db');
    expect(config.env.CMD).toBe(`a$(touch ${marker})b`);
    expect(existsSync(marker)).toBe(false);
  });

  it('keeps dollar signs in .env values used through ${VAR}: a substituted value is not expanded again', () => {
    write('.env', 'DB_PASSWORD=S3cr$tPw\nDATABASE_URL=postgres://app:${DB_PASSWORD}@host/db\nLITERAL=\\${NOT_A_REF}\n');
    const config = loadConfig({ cwd: root, processEnv: {} });
    // only ${VAR} and ${VAR:-default} are references: a bare $ (common in passwords) stays as written
    expect(config.env.DB_PASSWORD).toBe('S3cr$tPw');
    expect(config.database.url).toBe('postgres://app:S3cr$tPw@host/db');
    expect(config.env.LITERAL).toBe('${NOT_A_REF}');
  });

  it('merges environments.<name> over the rest with --env, and refuses an unknown one', () => {
    write(
      'opsctl.config.yaml',
      'database:\n  url: postgres://localhost/dev\n  table: migs\nenvironments:\n  production:\n    database: { url: "${PROD_DATABASE_URL}" }\n',
    );
    const prod = loadConfig({
      cwd: root,
      env: 'production',
      processEnv: { PROD_DATABASE_URL: 'postgres://prod/db' },
    });
    expect(prod.database).toMatchObject({ url: 'postgres://prod/db', table: 'migs' });
    expect(configError(() => loadConfig({ cwd: root, env: 'staging', processEnv: {} })).message).toContain(
      'environments.staging',
    );
  });

  it('has no embedded database under --env production', () => {
    const config = loadConfig({ cwd: root, env: 'production', processEnv: {} });
    expect(config.database.source).toBe('none');
    expect(config.database.url).toBeUndefined();
  });

  it('takes the embedded database URL from the resolver it is given, only when nothing else names a database', () => {
    mkdirSync(join(root, '.opsctl', 'pg'), { recursive: true });
    writeEmbeddedState(root, { port: 54329, user: 'postgres', password: 'cfg-pw-81d2', database: 'app' });
    const embedded = loadConfig({ cwd: root, processEnv: {}, embeddedDatabaseUrl: readEmbeddedUrl });
    expect(embedded.database).toMatchObject({
      source: 'embedded',
      url: 'postgres://postgres:cfg-pw-81d2@127.0.0.1:54329/app',
    });
    expect(redact('cfg-pw-81d2')).toBe('****');
    // config itself does not know where the embedded database keeps its state
    expect(loadConfig({ cwd: root, processEnv: {} }).database).toMatchObject({ source: 'embedded', url: undefined });
    const fromEnv = loadConfig({
      cwd: root,
      processEnv: { DATABASE_URL: 'postgres://ci@db/app' },
      embeddedDatabaseUrl: readEmbeddedUrl,
    });
    expect(fromEnv.database).toMatchObject({ source: 'env', url: 'postgres://ci@db/app' });
  });

  it('uses ${VAR:-default} and warns about unset variables inside longer strings', () => {
    write('opsctl.config.yaml', 'redis:\n  url: redis://${REDIS_HOST:-127.0.0.1}:${REDIS_PORT}\n');
    const config = loadConfig({ cwd: root, processEnv: {} });
    expect(config.redis.url).toBe('redis://127.0.0.1:');
    expect(config.warnings[0]).toContain('${REDIS_PORT} is not set');
  });

  it('fills numeric fields from ${VAR:-default} (port, debugPort, instances, doctor.timeout)', () => {
    write(
      'opsctl.config.yaml',
      'packages:\n  backend:\n    port: ${BACKEND_PORT:-4100}\n    debugPort: ${DEBUG_PORT:-9230}\n    instances: ${INSTANCES:-2}\ndoctor:\n  timeout: ${DOCTOR_TIMEOUT}\n',
    );
    const config = loadConfig({ cwd: root, processEnv: { DEBUG_PORT: '9331', DOCTOR_TIMEOUT: '1500' } });
    expect(config.packages.find((p) => p.name === 'backend')).toMatchObject({
      port: 4100,
      debugPort: 9331,
      instances: 2,
    });
    expect(config.doctor.timeout).toBe(1500);
  });

  it('a non-numeric ${VAR} in a numeric field is still an error naming file, key and line', () => {
    write('opsctl.config.yaml', 'packages:\n  backend:\n    port: ${BACKEND_PORT:-41OO}\n');
    const err = configError(() => loadConfig({ cwd: root, processEnv: {} }));
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('opsctl.config.yaml: packages.backend.port:');
    expect(err.message).toContain('"41OO"');
    expect(err.message).toContain('(line 3)');
    write('opsctl.config.yaml', 'packages:\n  backend:\n    port: ${BACKEND_PORT}\n');
    expect(configError(() => loadConfig({ cwd: root, processEnv: { BACKEND_PORT: '70000' } })).message).toContain(
      'packages.backend.port: expected at most 65535',
    );
  });
});
