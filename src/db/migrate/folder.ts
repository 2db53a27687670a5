import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { configError, usageError } from '../../errors.js';

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
