import { detectTool } from '../../src/db/tools/detect.js';
import { ExitCode, usageError } from '../../src/errors.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { out } from '../shared/output.js';
import { nearNames } from '../shared/typo.js';
import { describeCliTarget, note, noteFolder, openCliMigrator, verifyConfirmed } from './shared.js';
import { markWithTool } from './tool-verbs.js';

export interface MarkOptions extends GlobalOptions {
  applied?: boolean;
  pending?: boolean;
  lockTimeout: number;
}

/**
 * `opsctl migrate mark <name> --applied|--pending`: record a migration as applied (its state row, with the file's
 * checksum) or pending (its row deleted) without running it, for a change made by hand (README, "`migrate mark`").
 */
export function mark(cmd: Invocation<MarkOptions>, name: string): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const opts = cli.opts;
    if (Boolean(opts.applied) === Boolean(opts.pending))
      throw usageError(
        opts.applied ? '--applied and --pending cannot be combined.' : 'Say how to mark it: --applied or --pending.',
        `opsctl migrate mark ${name} --applied   # applied by hand: record it without running it`,
      );
    const as = opts.applied ? 'applied' : 'pending';
    const choice = detectTool(cli.config());
    if (choice) return markWithTool(cli, choice, name, as, opts.lockTimeout);
    const dryRun = Boolean(opts.dryRun);
    const migrator = await openCliMigrator(cli, { lockTimeout: opts.lockTimeout, dryRun });
    let changed = false;
    const fields = () => ({ name, as, changed, ...(dryRun ? { dryRun: true } : {}) });
    try {
      noteFolder(cli, migrator.folder);
      const status = migrator.status();
      const source = migrator.sources.find((s) => s.name === name);
      const applied = status.executed.some((e) => e.name === name);
      // a row without its file (missing) can still be marked pending: that removes it
      if (!source && !(applied && as === 'pending')) {
        const near = nearNames(name, [...migrator.sources.map((s) => s.name), ...status.executed.map((e) => e.name)]);
        throw usageError(
          `No migration ${name} in ${migrator.folder.label}/.`,
          near.length
            ? `Did you mean ${near.join(', ')}?`
            : '`opsctl migrate status` lists every migration (names without their extension).',
        );
      }
      if (applied === (as === 'applied')) {
        const drift = status.drifted.includes(name) ? ' (its file changed since: drifted)' : '';
        note(cli, `✔ ${name} is already ${as}${drift}; nothing changed.`);
        return cli.finish(ExitCode.ok, fields());
      }
      await verifyConfirmed(
        cli,
        as === 'applied'
          ? `Mark ${name} as applied without running it on ${describeCliTarget(cli)}?`
          : `Mark ${name} as pending (delete its state row, running nothing) on ${describeCliTarget(cli)}?`,
        'nothing was changed.',
      );
      await migrator.record(source ?? { name, checksum: '' }, as);
      changed = !dryRun;
      note(
        cli,
        dryRun
          ? `✔ Dry run: ${name} would be marked ${as}; nothing changed.`
          : `✔ Marked ${name} as ${as} (nothing was run).`,
      );
      if (!cli.json) out(name);
      return cli.finish(ExitCode.ok, fields());
    } catch (error) {
      return cli.fail(error, fields());
    } finally {
      await migrator.close();
    }
  });
}
