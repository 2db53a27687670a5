import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usageError } from '../../errors.js';
import { readSequelizeMeta, sequelizeTimestamp } from './sequelize-meta.js';
import { dependsOn, firstFolder, moduleFiles, readManifest, scriptsOf } from './state.js';
import type { ToolAdapter, ToolChoice } from './types.js';

/** Where umzug apps keep migrations (umzug has no default: the glob lives in the app's code). */
const FOLDERS = ['migrations', 'src/migrations', 'db/migrations', 'src/db/migrations', 'database/migrations'];

/**
 * umzug with Sequelize's `SequelizeStorage`: umzug lives in the app's code, so opsctl runs the package's `migrate` /
 * `rollback` scripts and reads `SequelizeMeta` (README, "Apps with their own migration tool").
 */
export const umzugSequelize: ToolAdapter = {
  id: 'umzug-sequelize',
  defaultTable: 'SequelizeMeta',
  transactional: 'none',
  detect(dir, manifest) {
    if (!dependsOn(manifest, 'umzug') || !dependsOn(manifest, 'sequelize')) return undefined;
    const scripts = scriptsOf(manifest);
    // a "migrate" script that runs sequelize-cli makes it a sequelize-cli app, whatever else it depends on
    if (runsSequelizeCli(scripts.migrate)) return undefined;
    const reasons = ['umzug and sequelize in dependencies'];
    if (scripts.migrate) reasons.push(`"migrate" script: ${scripts.migrate}`);
    return { reasons, migrationsDir: firstFolder(dir, FOLDERS) };
  },
  readStatus: readSequelizeMeta,
  command(choice, action) {
    if (action.to !== undefined || action.step !== undefined || (action.kind === 'down' && action.all))
      throw unsupported(choice, action.to !== undefined ? '--to' : action.step !== undefined ? '--step' : '--all');
    return npmScript(choice, action.kind === 'up' ? 'migrate' : 'rollback');
  },
  create(choice, name) {
    return createLikeNeighbours(choice, name);
  },
};

function unsupported(choice: ToolChoice, flag: string) {
  return usageError(
    `${flag} is not supported for ${choice.tool}: opsctl runs the package's own "migrate"/"rollback" scripts, which take no such option.`,
    `Run without ${flag} (migrate applies everything pending, rollback runs the "rollback" script once), or run the tool yourself in ${choice.dir}.`,
  );
}

/** `npm run <script>` in the package, or a usage error when the package has no such script. */
export function npmScript(choice: ToolChoice, script: string) {
  const scripts = scriptsOf(readManifest(choice.dir));
  if (!scripts[script])
    throw usageError(
      `${choice.pkg} has no "${script}" script to run its migrations with (${choice.tool}).`,
      `Add a "${script}" script to ${join(choice.dir, 'package.json')}, or set database.tool in opsctl.config.json.`,
    );
  return { file: 'npm', args: ['run', '--silent', script] };
}

/** A new file named and shaped like the newest existing one (`YYYYMMDDHHMMSS-name.js`, CommonJS or ESM). */
function createLikeNeighbours(choice: ToolChoice, name: string) {
  const dir = choice.migrationsDir ?? join(choice.dir, 'migrations');
  const files = moduleFiles(dir);
  const newest = files.at(-1);
  const ext = newest?.match(/\.(c|m)?(js|ts)$/)?.[0] ?? '.js';
  const separator = newest && /^\d+_/.test(newest) ? '_' : '-';
  const prefix = newest && /^\d{13}[-_]/.test(newest) ? String(Date.now()) : sequelizeTimestamp();
  const file = `${prefix}${separator}${name}${ext}`;
  const text = newest ? readFileSync(join(dir, newest), 'utf8') : '';
  const esm = ext === '.mjs' || ext === '.mts' || (!/module\.exports|exports\./.test(text) && /^export /m.test(text));
  const body = esm
    ? "/** @param {{ context: import('sequelize').QueryInterface }} params */\nexport async function up({ context: queryInterface }) {}\n\nexport async function down({ context: queryInterface }) {}\n"
    : "'use strict';\n\n/** @param {{ context: import('sequelize').QueryInterface }} params */\nasync function up({ context: queryInterface }) {}\n\nasync function down({ context: queryInterface }) {}\n\nmodule.exports = { up, down };\n";
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), body, { flag: 'wx' });
  return { name: file, path: join(dir, file) };
}

/** Does an npm script run sequelize-cli (`sequelize-cli db:migrate`, `sequelize db:migrate`, `npx sequelize-cli ...`)? */
export function runsSequelizeCli(script: string | undefined): boolean {
  return script !== undefined && /\bsequelize(-cli)?\s+db:migrate/.test(script);
}
