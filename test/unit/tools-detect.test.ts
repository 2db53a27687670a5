import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/types.js';
import { detectTool } from '../../src/db/tools/detect.js';
import { sequelizeCli } from '../../src/db/tools/sequelize-cli.js';
import { statusFromNames } from '../../src/db/tools/state.js';
import { isOpsError } from '../../src/errors.js';
import { appPackage } from '../helpers/check-context.js';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** An app of packages, each a package.json (and more files); the config as loadConfig would give it. */
function app(packages: Record<string, Record<string, unknown>>, files: Record<string, string> = {}, tool?: string) {
  root = mkdtempSync(join(tmpdir(), 'opsctl-detect-'));
  for (const [name, manifest] of Object.entries(packages)) {
    mkdirSync(join(root, name), { recursive: true });
    writeFileSync(join(root, name, 'package.json'), JSON.stringify(manifest));
  }
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return {
    root,
    packages: Object.keys(packages).map((name) => appPackage({ name, dir: join(root, name) })),
    database: { source: 'env', table: 'opsctl_migrations', schema: 'public', ...(tool ? { tool } : {}) },
    env: { NODE_ENV: 'staging' },
    redis: {},
  } as unknown as ResolvedConfig;
}

const umzug = { dependencies: { sequelize: '^6', umzug: '^3' }, scripts: { migrate: 'node migrate.js up' } };

describe('detectTool', () => {
  it('umzug + sequelize with its own migrate script: umzug-sequelize, even with sequelize-cli for its generator', () => {
    const config = app({ backend: { ...umzug, devDependencies: { 'sequelize-cli': '^6' } } });
    expect(detectTool(config)).toMatchObject({
      tool: 'umzug-sequelize',
      pkg: 'backend',
      table: 'SequelizeMeta',
      reasons: ['umzug and sequelize in dependencies', '"migrate" script: node migrate.js up'],
    });
  });

  it('a migrate script running sequelize-cli makes it a sequelize-cli app; .sequelizerc names the folder', () => {
    const config = app(
      { api: { ...umzug, scripts: { migrate: 'sequelize-cli db:migrate' } } },
      { 'api/.sequelizerc': "module.exports = { 'migrations-path': 'db/migrate' };" },
    );
    expect(detectTool(config)).toMatchObject({
      tool: 'sequelize-cli',
      migrationsDir: join(root, 'api/db/migrate'),
      reasons: ['.sequelizerc', '"migrate" script: sequelize-cli db:migrate'],
    });
  });

  it('sequelize-cli config naming its own state table and schema', () => {
    const config = app(
      { api: { devDependencies: { 'sequelize-cli': '^6' } } },
      {
        'api/config/config.json': JSON.stringify({
          [process.env.NODE_ENV || 'development']: {
            migrationStorageTableName: 'meta',
            migrationStorageTableSchema: 'app',
          },
        }),
      },
    );
    expect(detectTool(config)).toMatchObject({ tool: 'sequelize-cli', table: 'app.meta' });
  });

  it('a plain migrate script is the "scripts" tool; one calling opsctl is opsctl itself', () => {
    expect(detectTool(app({ svc: { scripts: { migrate: 'node tools/migrate.js' } } }))).toMatchObject({
      tool: 'scripts',
      table: '',
    });
    expect(detectTool(app({ svc: { scripts: { migrate: 'opsctl migrate' } } }))).toBeUndefined();
    expect(detectTool(app({ svc: { dependencies: { pg: '^8' } } }))).toBeUndefined();
  });

  it('two tools at once: a usage error naming both and how to choose', () => {
    const config = app({ api: { devDependencies: { 'sequelize-cli': '^6' } }, backend: umzug });
    let caught: unknown;
    try {
      detectTool(config);
    } catch (err) {
      caught = err;
    }
    expect(isOpsError(caught) && caught.exitCode).toBe(2);
    expect((caught as Error).message).toMatch(/sequelize-cli \(api: .*\); umzug-sequelize \(backend: /);
  });

  it('database.tool overrides: an app tool in the package showing it, or opsctl', () => {
    const packages = { api: { devDependencies: { 'sequelize-cli': '^6' } }, backend: umzug };
    expect(detectTool(app(packages, {}, 'umzug-sequelize'))).toMatchObject({ tool: 'umzug-sequelize', pkg: 'backend' });
    expect(detectTool(app(packages, {}, 'opsctl'))).toBeUndefined();
    expect(() => detectTool(app({ a: {}, b: {} }, {}, 'sequelize-cli'))).toThrow(/no package shows it/);
  });
});

describe('sequelize-cli command', () => {
  it("takes the URL through the variable the package's NODE_ENV section names, else --url", () => {
    const config = app(
      { api: { devDependencies: { 'sequelize-cli': '^6' } } },
      {
        'api/config/config.json': JSON.stringify({ staging: { use_env_variable: 'STAGING_DB' }, development: {} }),
        'api/node_modules/.bin/sequelize-cli': '',
      },
    );
    const choice = detectTool(config)!;
    expect(choice.nodeEnv).toBe('staging');
    expect(sequelizeCli.command(choice, { kind: 'down', to: 'x.js' })).toEqual({
      file: join(root, 'api/node_modules/.bin/sequelize-cli'),
      args: ['db:migrate:undo:all', '--to', 'x.js'],
      urlEnv: 'STAGING_DB',
    });
    expect(sequelizeCli.command({ ...choice, nodeEnv: 'development' }, { kind: 'up' })).toMatchObject({
      args: ['db:migrate'],
      urlFlag: '--url',
    });
  });
});

describe('statusFromNames', () => {
  it('executed from the rows, pending = files not in them, missing = rows without a file, drift only with checksums', () => {
    const status = statusFromNames(
      ['20250101000000-a.js', '20250102000000-b.js', '20250103000000-c.js'],
      [
        { name: '20250102000000-b.js', checksum: 'x' },
        { name: '20241231000000-gone.js', appliedAt: new Date('2025-01-01T00:00:00Z') },
        { name: '20250101000000-a.js', checksum: 'y' },
      ],
      new Map([
        ['20250101000000-a.js', 'y'],
        ['20250102000000-b.js', 'changed'],
      ]),
    );
    expect(status).toEqual({
      executed: [
        { name: '20241231000000-gone.js', appliedAt: '2025-01-01T00:00:00.000Z' },
        { name: '20250101000000-a.js', appliedAt: '' },
        { name: '20250102000000-b.js', appliedAt: '' },
      ],
      pending: ['20250103000000-c.js'],
      drifted: ['20250102000000-b.js'],
      missing: ['20241231000000-gone.js'],
    });
  });
});
