import { relative } from 'node:path';
import { readMigrationStatus } from '../../src/db/migrate/engine.js';
import { hasFindings, type MigrationStatus } from '../../src/db/migrate/plan.js';
import { detectTool, reportTool } from '../../src/db/tools/detect.js';
import { readToolStatus } from '../../src/db/tools/status.js';
import type { ToolStatus } from '../../src/db/tools/types.js';
import { ExitCode } from '../../src/errors.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { out, table } from '../shared/output.js';
import { describeChoice, note, noteFolder } from './shared.js';

// kept apart from up.ts so `migrate status` loads neither listr2 nor umzug

export interface StatusOptions extends GlobalOptions {
  exitCode?: boolean;
}

/** `opsctl migrate status [--exit-code]`: read-only, no lock. */
export function status(cmd: Invocation<StatusOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const opts = cli.opts;
    const choice = detectTool(config);
    if (choice) {
      const read = await readToolStatus(config, choice);
      const exitCode = opts.exitCode && hasFindings(read.status) ? ExitCode.findings : ExitCode.ok;
      if (cli.json) return cli.finish(exitCode, { ...read.status, tool: reportTool(config, read.choice) });
      note(cli, describeChoice(config.root, read.choice));
      if (!read.choice.table)
        note(cli, `⚠ ${choice.tool}: opsctl cannot read this tool's state; it shows nothing here.`);
      printStatus(read.status);
      for (const warning of (read.status as ToolStatus).warnings ?? []) note(cli, `⚠ ${warning}`);
      note(
        cli,
        summary(
          read.status,
          read.choice.migrationsDir ? relative(config.root, read.choice.migrationsDir) : read.choice.table,
        ),
      );
      return exitCode;
    }
    const { folder, status } = await readMigrationStatus(config.root, config.database);
    noteFolder(cli, folder);
    const exitCode = opts.exitCode && hasFindings(status) ? ExitCode.findings : ExitCode.ok;
    if (cli.json) return cli.finish(exitCode, { ...status, tool: reportTool(config, undefined) });
    printStatus(status);
    const tool = reportTool(config, undefined);
    note(cli, `${summary(status, folder.label)}; opsctl's own engine (${tool.reasons.join('; ')})`);
    return exitCode;
  });
}

function summary(status: MigrationStatus, where: string): string {
  return `${status.executed.length} applied, ${status.pending.length} pending, ${status.drifted.length} drifted, ${status.missing.length} missing (${where}/)`;
}

function printStatus(status: MigrationStatus & Pick<ToolStatus, 'failed'>): void {
  const failed = new Set(status.failed);
  const drifted = new Set(status.drifted);
  const missing = new Set(status.missing);
  const rows = [
    ...status.executed.map((e) => [
      e.name,
      missing.has(e.name) ? 'missing' : drifted.has(e.name) ? 'drifted' : 'applied',
      e.appliedAt || '-',
    ]),
    ...status.pending.map((name) => [name, failed.has(name) ? 'failed' : 'pending', '']),
  ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  if (rows.length) out(table(rows, ['migration', 'state', 'applied at']));
}
