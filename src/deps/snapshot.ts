import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NPM_LOCKFILES } from '../packages/lockfile.js';

/** What `update --test` puts back when the tests fail: package.json, the lockfile and node_modules. */
export interface Snapshot {
  /** Put every file back exactly as it was (byte for byte), and drop the backup. */
  restore(): Promise<void>;
  /** Keep the new state; drop the backup. */
  discard(): Promise<void>;
}

const FILES = ['package.json', ...NPM_LOCKFILES];

/**
 * Copy a package's manifest, lockfile and node_modules aside (node_modules into `backupDir`, which should sit on
 * the same file system so that restoring is a rename). Files that did not exist are removed on restore.
 */
export async function takeSnapshot(dir: string, backupDir: string): Promise<Snapshot> {
  const files = new Map<string, Buffer | undefined>();
  for (const name of FILES) files.set(name, existsSync(join(dir, name)) ? await readFile(join(dir, name)) : undefined);
  const modules = join(dir, 'node_modules');
  const hadModules = existsSync(modules);
  const saved = join(backupDir, 'node_modules');
  await rm(backupDir, { recursive: true, force: true });
  await mkdir(backupDir, { recursive: true });
  if (hadModules) {
    await cp(modules, saved, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, force: true });
  }
  return {
    async restore() {
      for (const [name, content] of files) {
        const file = join(dir, name);
        if (content) await writeFile(file, content);
        else await rm(file, { force: true });
      }
      await rm(modules, { recursive: true, force: true });
      if (hadModules) await moveDir(saved, modules);
      await dropBackup(backupDir);
    },
    async discard() {
      await dropBackup(backupDir);
    },
  };
}

async function moveDir(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EXDEV') throw err;
    await cp(from, to, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  }
}

async function dropBackup(backupDir: string): Promise<void> {
  await rm(backupDir, { recursive: true, force: true });
  await rmdir(dirname(backupDir)).catch(() => {}); // only when no other package's backup is there
}
