import { checkOutdated } from '../../src/deps/check-outdated.js';
import { type PlannedChange, planChanges, verifyUpdateTargets } from '../../src/deps/update-plan.js';
import type { PackageUpdate } from '../../src/deps/update-run.js';
import { updateTasks } from '../../src/deps/update-tasks.js';
import { ExitCode, isOpsError, usageError } from '../../src/errors.js';
import { runTasks } from '../../src/tasks/run.js';
import { type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import { err, errorJson, out, printError, table } from '../shared/output.js';

export interface UpdateOptions extends GlobalOptions {
  latest?: boolean;
  test?: boolean;
  timeout?: number;
}

/** `opsctl update [dependencies...] [--latest] [--test]`: npm update in the selected packages. */
export function update(cmd: Invocation<UpdateOptions>, names: string[]): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const opts = cli.opts;
    const config = cli.config();
    const targets = await verifyUpdateTargets(config.packages, names);
    if (opts.test) {
      const untested = targets.filter((t) => !t.pkg.scripts.test);
      if (untested.length) {
        throw usageError(
          `--test: ${untested.map((t) => t.pkg.name).join(', ')} ha${untested.length === 1 ? 's' : 've'} no test script; nothing was changed.`,
          'Add a "test" script to package.json, or leave those packages out with --package.',
        );
      }
    }
    const needPlan = opts.dryRun || opts.latest;
    const planned = needPlan ? await plan(targets, cli.runner, Boolean(opts.latest), opts.timeout) : [];

    if (opts.dryRun) {
      if (cli.json) return cli.finish(ExitCode.ok, { dryRun: true, changes: planned });
      printChanges(planned, 'would change', 'Nothing to update.');
      return ExitCode.ok;
    }

    const results: PackageUpdate[] = [];
    const errors = await runTasks(
      updateTasks(
        targets,
        { runner: cli.runner, root: config.root, test: Boolean(opts.test), latest: opts.latest ? planned : undefined },
        results,
      ),
      {},
      { renderer: cli.renderer, exitOnError: false },
    );
    const failed = errors.find((e) => isOpsError(e));
    const restored = results.filter((r) => r.status === 'restored');
    const applied = results
      .filter((r) => r.status === 'updated')
      .flatMap((r) => r.changes)
      .map((c) => {
        const range = planned.find((p) => p.package === c.package && p.name === c.name)?.range;
        return range ? { ...c, range } : c;
      });
    const exitCode = failed || restored.length ? ExitCode.failed : ExitCode.ok;
    if (cli.json) {
      return cli.finish(exitCode, {
        changes: applied,
        packages: results.map(({ output: _o, ...r }) => r),
        ...(failed ? { error: errorJson(failed) } : {}),
      });
    }
    printChanges(applied, 'updated', restored.length || failed ? '' : 'Everything was already up to date.');
    for (const r of restored) {
      err(`✖ ${r.package}: ${r.reason}; package.json, the lockfile and node_modules were restored.`);
      if (r.output) err(r.output);
      err(`→ Fix the failing tests (or pin the dependency), then run opsctl update again.`);
    }
    if (failed) printError(failed, cli.debug);
    return exitCode;
  });
}

async function plan(
  targets: Awaited<ReturnType<typeof verifyUpdateTargets>>,
  runner: Parameters<typeof checkOutdated>[1]['runner'],
  latest: boolean,
  timeoutMs: number | undefined,
): Promise<PlannedChange[]> {
  const report = await checkOutdated(
    targets.map((t) => t.pkg),
    { runner, timeoutMs },
  );
  return planChanges(targets, report.dependencies, latest);
}

function printChanges(
  changes: Array<PlannedChange | { package: string; name: string; from: string | null; to: string | null }>,
  verb: string,
  none: string,
): void {
  if (!changes.length) {
    if (none) err(none);
    return;
  }
  out(
    table(
      changes.map((c) => [
        c.package,
        c.name,
        `${c.from ?? 'not installed'} → ${c.to ?? 'removed'}`,
        'range' in c && c.range ? c.range : '',
      ]),
      ['package', 'dependency', 'before → after', 'new range'],
    ),
  );
  err(`${changes.length} dependenc${changes.length === 1 ? 'y' : 'ies'} ${verb}.`);
}
