import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { configError, usageError } from '../../errors.js';
import { findMigrationsFolder } from '../migrate/sources.js';

/** A seed file: SQL, or a JS/TS module exporting `seed` (or a default function). */
export interface SeedSource {
  /** The file name without its extension: `001_users`; `--only` takes it (or the file name). */
  name: string;
  file: string;
  path: string;
  kind: 'sql' | 'module';
}

export interface SeedsFolder {
  dir: string;
  /** Relative to the app root, for messages. */
  label: string;
}

const SEED_FILE = /^(.+)\.(sql|js|cjs|mjs|ts|mts|cts)$/;

/**
 * The seeds folder: `database.seeds`, else `seeds/` beside the migrations folder (`backend/seeds` next to
 * `backend/migrations`), else `seeds/` at the app root. A missing folder is exit 2.
 */
export function verifySeedsFolder(root: string, database: { seeds?: string; migrations?: string }): SeedsFolder {
  if (database.seeds) {
    const dir = resolve(root, database.seeds);
    if (!isDir(dir))
      throw configError(
        `database.seeds: the folder "${database.seeds}" does not exist.`,
        'Create it, or fix database.seeds.',
      );
    return { dir, label: relative(root, dir) || '.' };
  }
  const migrations = findMigrationsFolder(root, database.migrations);
  const candidates = [...(migrations ? [join(dirname(migrations.dir), 'seeds')] : []), join(root, 'seeds')];
  const dir = candidates.find(isDir);
  if (!dir)
    throw usageError(
      `No seeds folder: looked for ${candidates.map((c) => `${relative(root, c)}/`).join(', ')}.`,
      'Create one with .sql or .js/.ts files (run in name order), or set database.seeds in the config.',
    );
  return { dir, label: relative(root, dir) || '.' };
}

/** The seed files of `dir` in name order; dotfiles, `_helpers.js` and `.d.ts` files are left out. */
export function readSeedSources(dir: string): SeedSource[] {
  return readdirSync(dir)
    .filter((file) => !file.startsWith('.') && !file.startsWith('_') && !/\.d\.[mc]?ts$/.test(file))
    .map((file) => ({ file, match: SEED_FILE.exec(file) }))
    .filter(
      (f): f is { file: string; match: RegExpExecArray } => Boolean(f.match) && statSync(join(dir, f.file)).isFile(),
    )
    .map(({ file, match }) => ({
      name: match[1]!,
      file,
      path: join(dir, file),
      kind: match[2] === 'sql' ? ('sql' as const) : ('module' as const),
    }))
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** `--only <name>`: the seed named (with or without its extension), else exit 2 listing the seeds. */
export function pickSeed(sources: SeedSource[], only: string): SeedSource {
  const wanted = basename(only);
  const found = sources.find((s) => s.name === wanted || s.file === wanted);
  if (found) return found;
  throw usageError(
    `--only ${only || '""'}: no such seed.`,
    `Seeds: ${sources.map((s) => s.name).join(', ') || 'none'}.`,
  );
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
