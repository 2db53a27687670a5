import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { usageError } from '../../errors.js';
import { readSequelizeMeta, sequelizeTimestamp } from './sequelize-meta.js';
import { dependsOn, findBin, scriptsOf } from './state.js';
import type { ToolAdapter, ToolChoice } from './types.js';
import { runsSequelizeCli } from './umzug-sequelize.js';

/** `.sequelizerc`'s paths (a CommonJS module the app writes; loaded as sequelize-cli loads it). */
interface RcPaths {
  config?: string;
  'migrations-path'?: string;
}

function readRc(dir: string): RcPaths {
  const rc = join(dir, '.sequelizerc');
  if (!existsSync(rc)) return {};
  try {
    return createRequire(rc)(rc) as RcPaths;
  } catch {
    return {};
  }
}

/** The section of config/config.json for NODE_ENV (sequelize-cli's default: development), when it is JSON. */
function configSection(dir: string, nodeEnv = process.env.NODE_ENV): Record<string, unknown> | undefined {
  const file = resolve(dir, readRc(dir).config ?? 'config/config.json');
  if (!file.endsWith('.json') || !existsSync(file)) return undefined;
  try {
    const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
    return all[nodeEnv || 'development'];
  } catch {
    return undefined;
  }
}

/** sequelize-cli (README, "Apps with their own migration tool"): its CLI from the package's node_modules. */
export const sequelizeCli: ToolAdapter = {
  id: 'sequelize-cli',
  defaultTable: 'SequelizeMeta',
  transactional: 'none',
  detect(dir, manifest) {
    const reasons: string[] = [];
    const scripts = scriptsOf(manifest);
    if (dependsOn(manifest, 'sequelize-cli')) reasons.push('sequelize-cli in dependencies');
    if (existsSync(join(dir, '.sequelizerc'))) reasons.push('.sequelizerc');
    if (runsSequelizeCli(scripts.migrate)) reasons.push(`"migrate" script: ${scripts.migrate}`);
    if (!reasons.length) return undefined;
    // an umzug app that keeps sequelize-cli around for its generator: its own "migrate" script decides
    if (dependsOn(manifest, 'umzug') && scripts.migrate && !runsSequelizeCli(scripts.migrate)) return undefined;
    const rc = readRc(dir);
    const section = configSection(dir);
    const table = section?.migrationStorageTableName as string | undefined;
    const schema = section?.migrationStorageTableSchema as string | undefined;
    if (existsSync(resolve(dir, rc.config ?? 'config/config.json'))) reasons.push(rc.config ?? 'config/config.json');
    return {
      reasons,
      migrationsDir: resolve(dir, rc['migrations-path'] ?? 'migrations'),
      ...(table || schema ? { table: `${schema ? `${schema}.` : ''}${table ?? 'SequelizeMeta'}` } : {}),
    };
  },
  readStatus: readSequelizeMeta,
  command(choice, action) {
    if (action.step !== undefined)
      throw usageError(
        '--step is not supported for sequelize-cli: its db:migrate and db:migrate:undo take no count.',
        'Use --to <migration> (db:migrate --to, db:migrate:undo:all --to), or run without it.',
      );
    const args =
      action.kind === 'up'
        ? ['db:migrate', ...(action.to ? ['--to', action.to] : [])]
        : action.to
          ? ['db:migrate:undo:all', '--to', action.to]
          : action.all
            ? ['db:migrate:undo:all']
            : ['db:migrate:undo'];
    // sequelize-cli reads the URL from the variable its config names (`use_env_variable`), else from --url
    const envVar = configSection(choice.dir, choice.nodeEnv)?.use_env_variable;
    return {
      file: bin(choice),
      args,
      ...(typeof envVar === 'string' ? { urlEnv: envVar } : { urlFlag: '--url' }),
    };
  },
  create(choice, name) {
    const dir = choice.migrationsDir ?? join(choice.dir, 'migrations');
    const file = `${sequelizeTimestamp()}-${name}.js`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, file), TEMPLATE, { flag: 'wx' });
    return { name: file, path: join(dir, file) };
  },
};

function bin(choice: ToolChoice): string {
  const found = findBin(choice.dir, resolve(choice.dir, '/'), 'sequelize-cli') ?? findBin(choice.dir, '/', 'sequelize');
  if (!found)
    throw usageError(
      `sequelize-cli is not installed in ${choice.pkg} (no node_modules/.bin/sequelize-cli).`,
      `Run \`npm install\` in ${choice.dir} (sequelize-cli is one of its dependencies), then run again.`,
    );
  return found;
}

/** sequelize-cli's own migration skeleton (what `sequelize-cli migration:generate` writes). */
const TEMPLATE = `'use strict';

/** @type {import('sequelize-cli').Migration} */
module.exports = {
  async up (queryInterface, Sequelize) {
    /**
     * Add altering commands here.
     *
     * Example:
     * await queryInterface.createTable('users', { id: Sequelize.INTEGER });
     */
  },

  async down (queryInterface, Sequelize) {
    /**
     * Add reverting commands here.
     *
     * Example:
     * await queryInterface.dropTable('users');
     */
  }
};
`;
