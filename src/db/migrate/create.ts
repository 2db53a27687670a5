import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OpsError, usageError } from '../../errors.js';
import { defaultNewFolder, findMigrationsFolder, type MigrationSource, readMigrationSources } from './sources.js';

/** The file formats `migrate create` writes. `sql-pair` is `.up.sql` + `.down.sql`. */
export type CreateFormat = 'sql' | 'sql-pair' | 'js' | 'ts';

/** What `migrate create` wrote. */
export interface CreatedMigration {
  name: string;
  /** Files written, relative to the app root. */
  files: string[];
  folder: string;
  numbering: 'sequence' | 'timestamp';
}

/** Find `templates/migrations` whether running from `src/` (tests) or `dist/src/` (the built CLI). */
function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'templates', 'migrations'))) return join(dir, 'templates', 'migrations');
    dir = dirname(dir);
  }
  throw new OpsError('TEMPLATES_MISSING', 'The migration templates of opsctl are missing.', {
    hint: 'Reinstall opsctl.',
  });
}

/** `Add order status!` → `add_order_status` (accents folded: `añadir` → `anadir`) */
export function slugify(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{Mn}/gu, '')
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * The longest name `migrate create` accepts, after slugifying: with a 14-digit version and `.down.sql` the file
 * name stays far below the 255 bytes file systems allow, and the name stays readable in status tables.
 */
export const MAX_NAME_LENGTH = 100;

/** The slug of a usable migration name; a usage error (exit 2) for one that is empty or too long once slugified. */
export function verifyMigrationName(name: string): string {
  const slug = slugify(name);
  if (!slug)
    throw usageError(
      `"${name}" is not a usable migration name: it has no letters or digits.`,
      'Use ASCII letters and digits (others become underscores), e.g. `opsctl migrate create add_order_status`.',
    );
  if (slug.length > MAX_NAME_LENGTH)
    throw usageError(
      `The migration name is ${slug.length} characters long; it can be at most ${MAX_NAME_LENGTH} characters (it becomes part of a file name).`,
      'Say what the migration does in a few words, e.g. `opsctl migrate create add_order_status`.',
    );
  return slug;
}

/** The next version in the folder's style: a timestamp like the existing ones, or the next zero-padded number. */
export function nextVersion(existing: string[], now: Date): { version: string; numbering: 'sequence' | 'timestamp' } {
  const longest = existing.reduce((w, v) => Math.max(w, v.length), 0);
  const max = existing.reduce((m, v) => (BigInt(v) > m ? BigInt(v) : m), 0n);
  if (longest >= 12 && /^(19|20)\d{10}/.test(existing.find((v) => v.length === longest)!)) {
    const stamp = now.toISOString().replace(/\D/g, '').slice(0, longest).padEnd(longest, '0');
    const version = BigInt(stamp) > max ? stamp : (max + 1n).toString();
    return { version, numbering: 'timestamp' };
  }
  const width = Math.max(longest, 4);
  return { version: (max + 1n).toString().padStart(width, '0'), numbering: 'sequence' };
}

/** The format of the newest migration, so a folder keeps one style. */
function formatLike(last: MigrationSource | undefined): CreateFormat {
  if (!last) return 'sql';
  if (last.kind === 'module') return /\.[mc]?ts$/.test(last.path) ? 'ts' : 'js';
  return /\.up\.sql$/.test(last.path) ? 'sql-pair' : 'sql';
}

/** Whether `.js` files in `dir` are ES modules (nearest package.json has "type": "module"). */
function isEsmFolder(dir: string, root: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    const pkg = join(d, 'package.json');
    if (existsSync(pkg)) return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module';
    if (d === root || dirname(d) === d) return false;
  }
}

/** Write a new migration from `templates/migrations`, numbered after the existing ones. */
export function createMigration(options: {
  root: string;
  configuredFolder?: string;
  name: string;
  format?: CreateFormat;
  now?: Date;
}): CreatedMigration {
  const slug = verifyMigrationName(options.name);
  const found = findMigrationsFolder(options.root, options.configuredFolder);
  const dir = found?.dir ?? defaultNewFolder(options.root, options.configuredFolder);
  mkdirSync(dir, { recursive: true });
  const sources = readMigrationSources(dir, relative(options.root, dir));
  const { version, numbering } = nextVersion(
    sources.map((s) => s.version),
    options.now ?? new Date(),
  );
  const name = `${version}_${slug}`;
  const format = options.format ?? formatLike(sources.at(-1));
  const templates = templatesDir();
  const fill = (template: string) => readFileSync(join(templates, template), 'utf8').replaceAll('{{name}}', name);
  const files: Array<[string, string]> =
    format === 'sql-pair'
      ? [
          [`${name}.up.sql`, fill('up.sql')],
          [`${name}.down.sql`, fill('down.sql')],
        ]
      : format === 'sql'
        ? [[`${name}.sql`, fill('sql.sql')]]
        : format === 'ts'
          ? [[`${name}.ts`, fill('ts.ts')]]
          : [[`${name}.js`, fill(isEsmFolder(dir, options.root) ? 'esm.js' : 'cjs.js')]];
  for (const [file, text] of files) writeFileSync(join(dir, file), text, { flag: 'wx' });
  return {
    name,
    files: files.map(([f]) => relative(options.root, join(dir, f))),
    folder: relative(options.root, dir),
    numbering,
  };
}
