import { connectClient } from '../../src/db/migrate/connect.js';
import { type CreateFormat, createMigration } from '../../src/db/migrate/create.js';
import { readMigrationStatus } from '../../src/db/migrate/engine.js';
import { detectTool } from '../../src/db/tools/detect.js';
import { adapterFor } from '../../src/db/tools/index.js';
import type { ToolChoice } from '../../src/db/tools/types.js';
import { ExitCode, errorMessage, usageError } from '../../src/errors.js';
import { type Cli, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
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
    const choice = detectTool(config);
    if (choice) return createWithTool(cli, choice, name);
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

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;

/** A file in the app tool's own convention (README, "Apps with their own migration tool"). */
function createWithTool(cli: Cli<CreateOptions>, choice: ToolChoice, name: string): number {
  const adapter = adapterFor(choice.tool);
  if (cli.opts.sql || cli.opts.js || cli.opts.ts)
    throw usageError(`--sql/--js/--ts choose opsctl's own formats; ${choice.tool} has its own.`, 'Run without them.');
  if (!NAME.test(name))
    throw usageError(
      `"${name}" is not a migration name.`,
      'Use letters, digits, "-" and "_" (at most 100), e.g. add-order-status.',
    );
  if (!adapter.create)
    throw usageError(
      `opsctl cannot write migrations for ${choice.tool}.`,
      `Use the tool's own generator in ${choice.dir}.`,
    );
  const created = adapter.create(choice, name);
  note(cli, `✔ Created ${created.name} for ${choice.tool} (${choice.pkg})`);
  if (!cli.json) out(created.path);
  return cli.finish(ExitCode.ok, { tool: choice.tool, name: created.name, files: [created.path] });
}
