import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { typeormAdapter } from '../../src/db/tools/typeorm.js';
import { isOpsError } from '../../src/errors.js';
import { testServers } from './migrate-setup.js';
import {
  expectOnlyPending,
  installTypeorm,
  makeToolApp,
  names,
  readStatus,
  runOwnCli,
  runTool,
  useToolApp,
} from './tools-setup.js';

const install = await installTypeorm();
if (install.skip) console.warn(`TypeORM tests skipped: ${install.skip}`);

const FIRST = 'CreateUser1700000000000';
const SECOND = 'AddEmail1700000000001';

const DATA_SOURCE = `const { DataSource } = require('typeorm');
exports.AppDataSource = new DataSource({
  type: 'postgres',
  url: process.env.DATABASE_URL,
  migrations: ['src/migrations/*.js'],
  migrationsTableName: 'typeorm_migrations',
});
`;

const migration = (cls: string, up: string, down: string) => `module.exports.${cls} = class ${cls} {
  async up(queryRunner) { await queryRunner.query(${JSON.stringify(up)}); }
  async down(queryRunner) { await queryRunner.query(${JSON.stringify(down)}); }
};
`;

describe.skipIf(Boolean(install.skip)).each(testServers())('TypeORM adapter ($label)', (server) => {
  const t = useToolApp(server, typeormAdapter, () =>
    makeToolApp(
      {
        name: 'backend',
        scripts: { 'migration:run': 'typeorm migration:run -d src/data-source.js' },
        dependencies: { typeorm: '^1.1.1', pg: '^8.0.0' },
      },
      {
        'src/data-source.js': DATA_SOURCE,
        // TypeORM's generator names: <timestamp>-<Name>.js holding class <Name><timestamp>
        'src/migrations/1700000000000-CreateUser.js': migration(
          FIRST,
          'create table users (id int primary key)',
          'drop table users',
        ),
        'src/migrations/1700000000001-AddEmail.js': migration(
          SECOND,
          'alter table users add column email text',
          'alter table users drop column email',
        ),
      },
      install.nodeModules,
    ),
  );

  it("detects TypeORM; the data source (from the script's -d) gives the folder and the table", () => {
    expect(t.choice.reasons).toEqual(['typeorm in dependencies', 'data source src/data-source.js']);
    expect(t.choice.migrationsDir).toBe(join(t.app.root, 'src/migrations'));
    expect(t.choice.table).toBe('typeorm_migrations');
    expect(typeormAdapter.detect(t.app.root, { name: 'other' })).toMatchObject({
      reasons: ['data source src/data-source.js'],
    });
  });

  it('an empty database: everything pending, named by class as TypeORM records them', async () => {
    await expectOnlyPending(typeormAdapter, t.choice, t.db.url, [FIRST, SECOND]);
  });

  it('after the app migrated itself with its own CLI: nothing pending', async () => {
    await runOwnCli(t.app.root, 'typeorm', ['migration:run', '-d', 'src/data-source.js'], t.db.url);
    const status = await readStatus(typeormAdapter, t.choice, t.db.url);
    expect(status.pending).toEqual([]);
    expect(names(status)).toEqual([FIRST, SECOND]);
  });

  it('command(): migration:run applies all, migration:revert reverts one', async () => {
    const run = async (action: Parameters<typeof typeormAdapter.command>[1]) => {
      const res = await runTool(typeormAdapter.command(t.choice, action), t.app.root, t.db.url);
      expect(res.exitCode, res.all).toBe(0);
      return names(await readStatus(typeormAdapter, t.choice, t.db.url));
    };
    expect(await run({ kind: 'up' })).toEqual([FIRST, SECOND]);
    expect(await run({ kind: 'down' })).toEqual([FIRST]);
    expect(await run({ kind: 'down', step: 1 })).toEqual([]);
    expect(await t.db.hasTable('users')).toBe(false);
  });

  it('a failing migration: non-zero exit naming it; the whole run is rolled back (transaction "all")', async () => {
    const broken = 'Broken1700000000002';
    t.app.write(
      'src/migrations/1700000000002-Broken.js',
      migration(broken, 'insert into no_such_table values (1)', 'select 1'),
    );
    const res = await runTool(typeormAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    expect(res.exitCode).not.toBe(0);
    expect(res.all).toContain(broken);
    expect(res.all).toContain('relation "no_such_table" does not exist');
    const status = await readStatus(typeormAdapter, t.choice, t.db.url);
    expect(status.executed).toEqual([]);
    expect(status.pending).toEqual([FIRST, SECOND, broken]);
    expect(await t.db.hasTable('users')).toBe(false);
    expect(typeormAdapter.transactional).toBe('all');
  });

  it('an applied migration whose file is gone is missing', async () => {
    await runTool(typeormAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    rmSync(join(t.app.root, 'src/migrations/1700000000001-AddEmail.js'));
    expect((await readStatus(typeormAdapter, t.choice, t.db.url)).missing).toEqual([SECOND]);
  });

  it("create(): a file and class in TypeORM's naming, which its CLI then runs", async () => {
    const created = typeormAdapter.create!(t.choice, 'add-orders');
    expect(created.name).toMatch(/^AddOrders\d{13}$/);
    expect(created.path).toBe(join(t.app.root, 'src/migrations', `${created.name.slice(-13)}-AddOrders.js`));
    expect((await readStatus(typeormAdapter, t.choice, t.db.url)).pending).toEqual([FIRST, SECOND, created.name]);
    const res = await runTool(typeormAdapter.command(t.choice, { kind: 'up' }), t.app.root, t.db.url);
    expect(res.exitCode, res.all).toBe(0);
    expect(names(await readStatus(typeormAdapter, t.choice, t.db.url))).toEqual([FIRST, SECOND, created.name]);
  });

  it('--to, --step above 1 and --all are usage errors (exit 2) naming TypeORM', () => {
    for (const action of [
      { kind: 'up', to: FIRST },
      { kind: 'up', step: 1 },
      { kind: 'down', step: 2 },
      { kind: 'down', all: true },
    ] as const) {
      let error: unknown;
      try {
        typeormAdapter.command(t.choice, action);
      } catch (err) {
        error = err;
      }
      expect(isOpsError(error) && error.exitCode).toBe(2);
      expect((error as Error).message).toMatch(/^typeorm /);
    }
  });
});
