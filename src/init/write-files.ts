import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { configError, errorMessage, OpsError } from '../errors.js';

/** One file `init` writes (README, "`opsctl init`"). */
export interface FileToWrite {
  /** Relative to the app root, with `/`. */
  path: string;
  text: string;
  /** Without `--force`: a file there (written by someone else meanwhile, e.g. a second `init`) is an error. */
  exclusive: boolean;
}

/**
 * Write the files all or none (README, "`opsctl init`": nothing is half-written): each is written to a temporary
 * file beside it first, then moved into place. An exclusive file is put in place with `link`, which fails when the
 * file exists, so a second `init` running at the same time cannot silently replace the first one's config.
 * Returns whether each file existed before (replaced).
 */
export function writeFilesTogether(root: string, files: FileToWrite[]): boolean[] {
  const staged: Array<{ file: FileToWrite; target: string; tmp: string }> = [];
  const madeDirs: string[] = [];
  const undo = () => {
    for (const s of staged) rmSync(s.tmp, { force: true });
    for (const dir of madeDirs.reverse()) rmSync(dir, { recursive: true, force: true });
  };
  let current = '';
  try {
    for (const file of files) {
      current = file.path;
      // a symlinked file (a package.json shared from elsewhere) is written where it points, as an editor would
      const target = realTarget(join(root, file.path));
      const made = mkdirSync(dirname(target), { recursive: true });
      if (made) madeDirs.push(made);
      const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.opsctl-tmp`);
      // a replaced file keeps its permissions (a package.json may be group-writable)
      const mode = existsSync(target) ? statSync(target).mode & 0o777 : undefined;
      writeFileSync(tmp, file.text, { flag: 'w', ...(mode !== undefined ? { mode } : {}) });
      staged.push({ file, target, tmp });
    }
  } catch (error) {
    undo();
    throw writeError(root, current, error);
  }
  // exclusive files first: when one is there already, the ones linked before it are ours to take back
  const order = [...staged].sort((a, b) => Number(b.file.exclusive) - Number(a.file.exclusive));
  const linked: string[] = [];
  const existed = new Map<FileToWrite, boolean>();
  for (const s of order) {
    try {
      if (s.file.exclusive) {
        createExclusive(s.tmp, s.target, s.file.text);
        linked.push(s.target);
        unlinkSync(s.tmp);
        existed.set(s.file, false);
      } else {
        existed.set(s.file, existsSync(s.target));
        renameSync(s.tmp, s.target);
      }
    } catch (error) {
      for (const target of linked) unlinkSync(target);
      undo();
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw configError(
          `${s.file.path} appeared while opsctl init ran (another opsctl init?); it was not overwritten.`,
          'Look at it, then pass --force to replace it. Nothing was written.',
          error,
        );
      }
      throw writeError(root, s.file.path, error);
    }
  }
  return files.map((f) => existed.get(f) ?? false);
}

/** `link` fails when the target exists; a file system without hard links (FAT, some shares) gets `O_EXCL` instead. */
function createExclusive(tmp: string, target: string, text: string): void {
  try {
    linkSync(tmp, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    writeFileSync(target, text, { flag: 'wx' });
  }
}

function realTarget(path: string): string {
  try {
    return lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
  } catch {
    return path;
  }
}

const REASONS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a file is where a folder belongs',
  ENOSPC: 'no space left on the device',
};

function writeError(root: string, path: string, error: unknown): OpsError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return new OpsError('WRITE_FAILED', `Could not write ${path} in ${root}: ${REASONS[code] ?? errorMessage(error)}.`, {
    hint: REASONS[code]
      ? 'Make it writable (or use a writable copy of the app), then run opsctl init again. Nothing was written.'
      : 'Fix the cause above, then run opsctl init again. Nothing was written.',
    exitCode: 3,
    cause: error,
  });
}
