import { abortWhenClientGone, connectClient, verifyDatabaseUrl } from '../../src/db/migrate/connect.js';
import { runSeeds } from '../../src/db/seed/run.js';
import { pickSeed, readSeedSources, verifySeedsFolder } from '../../src/db/seed/sources.js';
import { detectTool } from '../../src/db/tools/detect.js';
import type { ToolChoice } from '../../src/db/tools/types.js';
import { hasToolSeeds, toolVerbPlan } from '../../src/db/tools/verbs.js';
import { ExitCode, usageError } from '../../src/errors.js';
import { describeCliTarget, note } from '../migrate/shared.js';
import { runSteps, stepError } from '../migrate/tool-verbs.js';
import { confirmInProduction } from '../shared/confirm-change.js';
import { type Cli, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, out } from '../shared/output.js';

/** Seeds may rightly run long (bulk loads); the wait for a table lock is bounded as for `migrate`. */
const SEED_LOCK_TIMEOUT_MS = 60_000;

export interface SeedOptions extends GlobalOptions {
  only?: string;
}

/**
 * `opsctl db seed [--only <name>]`: run the seeds folder's files in name order, each in its own transaction
 * (README, "`opsctl db seed`"); with an app tool that has seeds, through the tool.
 */
export function seed(cmd: Invocation<SeedOptions>): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    const dryRun = Boolean(cli.opts.dryRun);
    const choice = detectTool(config);
    if (choice && (hasToolSeeds(choice) || !config.database.seeds)) return seedWithTool(cli, choice);
    const folder = verifySeedsFolder(config.root, config.database);
    const all = readSeedSources(folder.dir);
    // `--only "$SEED"` with SEED unset is an unknown name, never every seed
    const sources = cli.opts.only !== undefined ? [pickSeed(all, cli.opts.only)] : all;
    const done: string[] = [];
    const fields = () => ({ seeds: done, folder: folder.label, dryRun });
    if (!sources.length) {
      note(cli, `✔ No seeds in ${folder.label}/.`);
      return cli.finish(ExitCode.ok, fields());
    }
    await confirmInProduction(cli, {
      question: `Run ${sources.length} seed(s) from ${folder.label}/ on ${describeCliTarget(cli)}`,
      unchanged: 'no seed was run',
    });
    const client = await connectClient(verifyDatabaseUrl(config.database), {
      lockTimeoutMs: SEED_LOCK_TIMEOUT_MS,
      statementTimeoutMs: 0,
    });
    // an interrupted seed is rolled back, not finished and committed by the server after opsctl exited
    await abortWhenClientGone(client).catch(async (error) => {
      await client.end().catch(() => {});
      throw error;
    });
    cli.soFar = fields;
    cli.interruptHint = () => (dryRun ? undefined : interruptedSeeds(done, sources[done.length]?.name));
    try {
      note(cli, `… Seeding ${describeCliTarget(cli)} from ${folder.label}/ (${sources.length} file(s))`);
      await runSeeds(client, sources, {
        dryRun,
        progress: {
          finished: (name, ms) => {
            done.push(name);
            note(cli, `✔ ${name} ${dryRun ? 'ran and was rolled back' : 'committed'} (${Math.round(ms)} ms)`);
          },
        },
      });
      note(
        cli,
        dryRun
          ? `✔ Dry run: ${done.length} seed(s) ran, each rolled back; nothing changed.`
          : `✔ Ran ${done.length} seed(s).`,
      );
      if (!cli.json) for (const name of done) out(name);
      return cli.finish(ExitCode.ok, fields());
    } catch (error) {
      return cli.fail(error, fields());
    } finally {
      await client.end().catch(() => {});
    }
  });
}

/** The hint of an interrupted seeding: what stays committed, and how to go on without running those again. */
function interruptedSeeds(done: string[], running: string | undefined): string {
  const kept = done.length ? `The seeds before it stay committed: ${done.join(', ')}.` : 'No seed was committed.';
  if (!running) return `Every seed was committed: ${done.join(', ')}. Running the folder again runs them again.`;
  return `${running} was interrupted and rolled back. ${kept} \`--only ${running}\` runs it alone (running the folder again runs the committed ones again).`;
}

async function seedWithTool(cli: Cli<SeedOptions>, choice: ToolChoice): Promise<number> {
  const verbs = toolVerbPlan(choice, 'seed')!;
  if (cli.opts.only !== undefined && !cli.opts.only.trim())
    throw usageError('--only was given an empty name.', `Name one of ${choice.tool}'s seed files.`);
  if (cli.opts.dryRun)
    throw usageError(
      `--dry-run is not supported for ${choice.tool}'s seeds: opsctl cannot run the app's own tool inside a transaction it rolls back.`,
      'Run without --dry-run.',
    );
  if (cli.opts.only && choice.tool === 'prisma')
    throw usageError(
      '--only is not supported for prisma: `prisma db seed` runs its one seed command.',
      'Run without --only.',
    );
  await confirmInProduction(cli, {
    question: `Run the seeds with ${choice.tool} (${choice.pkg}) on ${describeCliTarget(cli)}`,
    unchanged: 'no seed was run',
  });
  const res = await runSteps(cli, choice, {
    lockTimeout: SEED_LOCK_TIMEOUT_MS,
    lock: false,
    plan: () => [verbs.seed!(choice, cli.opts.only)],
  });
  const fields = { seeds: [], tool: choice.tool };
  if (res.exitCode !== 0 || res.interrupted)
    return cli.fail(
      stepError(
        choice,
        res,
        'Seeding',
        `What the seeds committed before the failure stays; ${choice.tool} decides what ran in a transaction.`,
      ),
      fields,
    );
  if (!cli.json) err(`✔ ${choice.tool} ran the seeds.`);
  return cli.finish(ExitCode.ok, fields);
}
