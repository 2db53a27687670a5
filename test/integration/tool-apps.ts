import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeApp } from './migrate-setup.js';

/** Real apps using their own migration tool, built in a temp folder; node_modules is the repo's (real packages). */

const NODE_MODULES = resolve(import.meta.dirname, '../../node_modules');

/** A migration in umzug's style: `{ context: queryInterface }`, like the app. */
export function umzugMigration(table: string): string {
  return `'use strict';
const { DataTypes } = require('sequelize');
async function up({ context: queryInterface }) {
  await queryInterface.createTable('${table}', { id: { type: DataTypes.INTEGER, primaryKey: true } });
}
async function down({ context: queryInterface }) {
  await queryInterface.dropTable('${table}');
}
module.exports = { up, down };
`;
}

/** A sequelize-cli migration (`up(queryInterface, Sequelize)`). */
export function cliMigration(table: string): string {
  return `'use strict';
module.exports = {
  async up(queryInterface, Sequelize) {
    await queryInterface.createTable('${table}', { id: { type: Sequelize.INTEGER, primaryKey: true } });
  },
  async down(queryInterface) {
    await queryInterface.dropTable('${table}');
  },
};
`;
}

/** A migration whose up fails in the database, in either style. */
export function failingMigration(style: 'umzug' | 'cli'): string {
  const params = style === 'umzug' ? '{ context: queryInterface }' : 'queryInterface';
  return `'use strict';
module.exports = {
  async up(${params}) {
    await queryInterface.sequelize.query('create table half_done (id int)');
    await queryInterface.sequelize.query('select * from no_such_table');
  },
  async down() {},
};
`;
}

/** The app's own runner: umzug with SequelizeStorage and a QueryInterface context (`migrate` / `rollback`). */
const UMZUG_RUNNER = `'use strict';
const path = require('node:path');
const { Sequelize } = require('sequelize');
const { Umzug, SequelizeStorage } = require('umzug');

const sequelize = new Sequelize(process.env.DATABASE_URL, { logging: false });
const umzug = new Umzug({
  migrations: { glob: ['migrations/*.js', { cwd: __dirname }] },
  context: sequelize.getQueryInterface(),
  storage: new SequelizeStorage({ sequelize }),
  logger: console,
});

(async () => {
  if (process.argv[2] === 'down') await umzug.down();
  else await umzug.up();
})()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => sequelize.close());
`;

export type ToolApp = ReturnType<typeof makeApp> & { pkgDir: string };

function withNodeModules(app: ReturnType<typeof makeApp>, pkg: string): ToolApp {
  const pkgDir = join(app.root, pkg);
  symlinkSync(NODE_MODULES, join(pkgDir, 'node_modules'));
  return { ...app, pkgDir };
}

/** `backend/`: umzug + Sequelize, `migrate`/`rollback` scripts, files named like `20250820085214-create-user-table.js`. */
export function umzugApp(migrations: Record<string, string>, extra: Record<string, string> = {}): ToolApp {
  const files: Record<string, string> = {
    'backend/package.json': JSON.stringify({
      name: 'backend',
      private: true,
      scripts: { start: 'node index.js', migrate: 'node migrate.js up', rollback: 'node migrate.js down' },
      dependencies: { pg: '^8', sequelize: '^6', umzug: '^3' },
    }),
    'backend/migrate.js': UMZUG_RUNNER,
    ...extra,
  };
  for (const [name, text] of Object.entries(migrations)) files[`backend/migrations/${name}`] = text;
  return withNodeModules(makeApp(files), 'backend');
}

/** `api/`: sequelize-cli with config/config.json reading DATABASE_URL (`use_env_variable`). */
export function sequelizeCliApp(migrations: Record<string, string>, extra: Record<string, string> = {}): ToolApp {
  const files: Record<string, string> = {
    'api/package.json': JSON.stringify({
      name: 'api',
      private: true,
      scripts: { start: 'node index.js' },
      dependencies: { pg: '^8', sequelize: '^6' },
      devDependencies: { 'sequelize-cli': '^6' },
    }),
    'api/config/config.json': JSON.stringify({
      development: { use_env_variable: 'DATABASE_URL', dialect: 'postgres', logging: false },
      test: { use_env_variable: 'DATABASE_URL', dialect: 'postgres', logging: false },
      production: { use_env_variable: 'DATABASE_URL', dialect: 'postgres', logging: false },
    }),
    ...extra,
  };
  for (const [name, text] of Object.entries(migrations)) files[`api/migrations/${name}`] = text;
  return withNodeModules(makeApp(files), 'api');
}
