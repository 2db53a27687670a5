// Hand-written rather than umzug's glob: one migration can be two files (.up.sql/.down.sql), and the folder is
// checked as a whole (versions, orphans) before anything runs. umzug gets the result as its migration list.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { configError, usageError } from '../../errors.js';
import { hasNoTransactionMarker, type SqlPart, splitSections } from './sql.js';

/** Where opsctl looks for migrations when `database.migrations` is not set, in order (README, "Commands"). */
export const CANDIDATE_FOLDERS = ['migrations', 'backend/migrations', 'db/migrations'];

/** The migrations folder in use and how it was found. */
export interface MigrationsFolder {
  /** Absolute path. */
  dir: string;
  /** Path relative to the app root, for messages. */
  label: string;
  configured: boolean;
  /** Other candidate folders that exist but were not chosen (only when not configured). */
  others: string[];
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/** Find the migrations folder, or `undefined` when none exists (and none is configured). */
export function findMigrationsFolder(root: string, configured: string | undefined): MigrationsFolder | undefined {
  if (configured) {
    const dir = resolve(root, configured);
    if (!isDir(dir)) {
      throw configError(
        `database.migrations: the folder "${configured}" does not exist.`,
        'Create it (`opsctl migrate create <name>` does) or fix database.migrations in the config.',
      );
    }
    return { dir, label: relative(root, dir) || '.', configured: true, others: [] };
  }
  const found = CANDIDATE_FOLDERS.filter((c) => isDir(join(root, c)));
  if (!found.length) return undefined;
  return { dir: join(root, found[0]!), label: found[0]!, configured: false, others: found.slice(1) };
}

/** Like `findMigrationsFolder`, but a missing folder is a usage error (exit 2). */
export function verifyMigrationsFolder(root: string, configured: string | undefined): MigrationsFolder {
  const folder = findMigrationsFolder(root, configured);
  if (!folder) {
    throw usageError(
      `No migrations folder: looked for ${CANDIDATE_FOLDERS.map((c) => `${c}/`).join(', ')} in ${root}.`,
      'Create one with `opsctl migrate create <name>`, or set database.migrations in opsctl.config.yaml.',
    );
  }
  return folder;
}

/** The folder `migrate create` writes to when none exists yet: backend/migrations in a backend app, else migrations. */
export function defaultNewFolder(root: string, configured: string | undefined): string {
  if (configured) return resolve(root, configured);
  return isDir(join(root, 'backend')) ? join(root, 'backend', 'migrations') : join(root, 'migrations');
}

/** A sentence for people when the choice was ambiguous, else undefined. */
export function describeFolderChoice(folder: MigrationsFolder): string | undefined {
  if (!folder.others.length) return undefined;
  return `Using ${folder.label}/ for migrations; also found ${folder.others.map((o) => `${o}/`).join(', ')} (set database.migrations to choose).`;
}

/** One migration found in the folder: a SQL file, an up/down SQL pair, or a JS/TS module. */
export interface MigrationSource {
  /** The file name without its extension(s): `0001_create_orders` (README, "JSON shapes"). */
  name: string;
  /** The digits before the first underscore. */
  version: string;
  kind: 'sql' | 'module';
  /** The file holding the up part (absolute). */
  path: string;
  /** The file holding the down part, when it is a separate `.down.sql`. */
  downPath?: string;
  /** sha256 of the up part as it is on disk now (line endings normalised); compared with the state table. */
  checksum: string;
  /**
   * Single-file SQL with sections only: the whole-file sha256 that opsctl stored before the checksum covered the
   * up part alone. A state row holding it is not drift; `migrate` rewrites it to `checksum`.
   */
  legacyChecksum?: string;
  /** SQL only: the parts to run. `down` is absent when the migration has none. */
  up?: SqlPart;
  down?: SqlPart;
  /** SQL only: false when marked `-- opsctl:no-transaction`. Modules say so when loaded. */
  transaction?: boolean;
}

const MODULE_EXT = /\.(js|cjs|mjs|ts|mts|cts)$/;
const SQL_EXT = /(\.up|\.down)?\.sql$/;
const VERSIONED = /^(\d+)_\S+$/;
const WHITESPACE = /\s/;

interface FileEntry {
  file: string;
  base: string;
  role: 'up' | 'down' | 'single' | 'module';
}

function classify(file: string): FileEntry | undefined {
  if (file.startsWith('.') || file.startsWith('_') || /\.d\.[mc]?ts$/.test(file)) return undefined;
  const sql = SQL_EXT.exec(file);
  if (sql) {
    const role = sql[1] === '.up' ? 'up' : sql[1] === '.down' ? 'down' : 'single';
    return { file, base: file.slice(0, -sql[0].length), role };
  }
  const mod = MODULE_EXT.exec(file);
  if (mod) return { file, base: file.slice(0, -mod[0].length), role: 'module' };
  return undefined;
}

/** sha256 of migration text, ignoring CRLF vs LF so a checkout on Windows is not drift. */
export function checksumOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

function read(dir: string, file: string): string {
  return readFileSync(join(dir, file), 'utf8').replace(/\r\n/g, '\n');
}

/**
 * Read every migration in `dir`, ordered by name. Files that are not migrations (README, .gitkeep, `_helpers.js`)
 * are ignored; a migration file without a version, duplicate versions or an orphan `.down.sql` are usage errors.
 */
export function readMigrationSources(dir: string, label = dir): MigrationSource[] {
  const groups = new Map<string, FileEntry[]>();
  const unversioned: string[] = [];
  for (const file of readdirSync(dir).sort()) {
    const entry = classify(file);
    if (!entry) continue;
    verifyNoWhitespace(file, label);
    if (!VERSIONED.test(entry.base)) {
      unversioned.push(file);
      continue;
    }
    groups.set(entry.base, [...(groups.get(entry.base) ?? []), entry]);
  }
  if (unversioned.length) {
    throw usageError(
      `${label}: ${unversioned.join(', ')} ${unversioned.length > 1 ? 'do' : 'does'} not start with a version (like 0001_name.sql).`,
      'Rename it with a numeric prefix, or move helper files out of the folder (or prefix them with "_").',
    );
  }
  const sources = [...groups.entries()].map(([base, entries]) => toSource(dir, label, base, entries));
  sources.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  verifyUniqueVersions(sources, label);
  return sources;
}

/**
 * A name is typed in `--to` and printed one per line and in status columns, so it is one word. Refused with that
 * reason rather than read as unversioned (README, "`opsctl migrate`...").
 */
function verifyNoWhitespace(file: string, label: string): void {
  if (!WHITESPACE.test(file)) return;
  const renamed = file.trim().replace(/\s+/g, '_');
  throw usageError(
    `${label}: "${file}": a migration file name cannot contain spaces (rename it to ${renamed}).`,
    'Names are typed as one word (--to) and listed one per line; `opsctl migrate create` writes them with underscores.',
  );
}

function toSource(dir: string, label: string, name: string, entries: FileEntry[]): MigrationSource {
  const version = VERSIONED.exec(name)![1]!;
  const roles = entries
    .map((e) => e.role)
    .sort()
    .join('+');
  const files = entries.map((e) => e.file).join(', ');
  const byRole = (role: FileEntry['role']) => entries.find((e) => e.role === role)!.file;
  switch (roles) {
    case 'module': {
      const file = byRole('module');
      return { name, version, kind: 'module', path: join(dir, file), checksum: checksumOf(read(dir, file)) };
    }
    case 'single': {
      const text = read(dir, byRole('single'));
      const sections = splitSections(text);
      // only the up part counts (README, "`opsctl migrate`..."): editing the down part or a comment before the
      // sections is not drift
      const checksum = checksumOf(sections.up.sql);
      const whole = checksumOf(text);
      return {
        name,
        version,
        kind: 'sql',
        path: join(dir, byRole('single')),
        checksum,
        ...(whole !== checksum ? { legacyChecksum: whole } : {}),
        ...sections,
        transaction: !hasNoTransactionMarker(text),
      };
    }
    case 'up':
    case 'down+up': {
      const upText = read(dir, byRole('up'));
      const downFile = roles === 'up' ? undefined : byRole('down');
      return {
        name,
        version,
        kind: 'sql',
        path: join(dir, byRole('up')),
        downPath: downFile ? join(dir, downFile) : undefined,
        checksum: checksumOf(upText),
        up: { sql: upText, line: 1 },
        down: downFile ? { sql: read(dir, downFile), line: 1 } : undefined,
        transaction: !hasNoTransactionMarker(upText),
      };
    }
    case 'down':
      throw usageError(
        `${label}: ${files} has no matching ${name}.up.sql.`,
        `Add ${name}.up.sql or remove the down file.`,
      );
    default:
      throw usageError(
        `${label}: migration ${name} is defined more than once (${files}).`,
        'Keep one format per migration: a .sql file, an .up.sql/.down.sql pair, or one JS/TS module.',
      );
  }
}

function verifyUniqueVersions(sources: MigrationSource[], label: string): void {
  const byVersion = new Map<string, string[]>();
  for (const s of sources) byVersion.set(s.version, [...(byVersion.get(s.version) ?? []), s.name]);
  const clashes = [...byVersion.entries()].filter(([, names]) => names.length > 1);
  if (!clashes.length) return;
  const list = clashes.map(([version, names]) => `${version} (${names.join(', ')})`).join('; ');
  throw usageError(
    `${label}: two migrations share a version: ${list}.`,
    'Give each migration its own version number (rename the newer file), so the order is unambiguous.',
  );
}
