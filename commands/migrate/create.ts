import { connectClient } from '../../src/db/migrate/connect.js';
import { type CreateFormat, createMigration } from '../../src/db/migrate/create.js';
import { readMigrationStatus } from '../../src/db/migrate/engine.js';
import { ExitCode, errorMessage } from '../../src/errors.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { out } from '../shared/output.js';
import { note } from './shared.js';

const CREATE_VERIFY_TIMEOUT_MS = 3_000; // create works offline; the database check is a courtesy

export interface CreateOptions extends GlobalOptions {
  sql?: boolean;
  js?: boolean;
  ts?: boolean;
}

/** `opsctl migrate create <name> [--sql|--js|--ts]` */
export function create(cmd: Invocation<CreateOptions>, name: string): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const opts = cli.opts;
    const format: CreateFormat | undefined = opts.ts ? 'ts' : opts.js ? 'js' : opts.sql ? 'sql' : undefined;
    const created = createMigration({ root: config.root, configuredFolder: config.database.migrations, name, format });
    let pending: boolean | undefined;
    let unverified: string | undefined;
    try {
      const { status } = await readMigrationStatus(config.root, config.database, (url) =>
        connectClient(url, {
          connectTimeoutMs: CREATE_VERIFY_TIMEOUT_MS,
          lockTimeoutMs: CREATE_VERIFY_TIMEOUT_MS,
          statementTimeoutMs: CREATE_VERIFY_TIMEOUT_MS,
        }),
      );
      pending = status.pending.includes(created.name);
      const later = status.executed.filter((e) => e.name > created.name).map((e) => e.name);
      if (later.length)
        note(cli, `⚠ ${created.name} sorts before applied ${later.join(', ')}; it will be applied out of order.`);
    } catch (error) {
      unverified = errorMessage(error);
    }
    if (pending === false) note(cli, `✖ ${created.name} was written but does not show as pending.`);
    else
      note(
        cli,
        `✔ Created ${created.name} in ${created.folder}/ (${pending ? 'pending' : `not checked against the database: ${unverified}`})`,
      );
    if (!cli.json) for (const file of created.files) out(file);
    return cli.finish(pending === false ? ExitCode.failed : ExitCode.ok, { ...created, pending: pending ?? null });
  });
}
