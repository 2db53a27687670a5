import chalk from 'chalk';
import { describeGitSource, readProvenance, shippableRefusal, verifyShippable } from '../../src/app/provenance.js';
import { describeEnv, isProduction } from '../../src/db/target-label.js';
import { packageTail, runForeground } from '../../src/deploy/foreground.js';
import { createDeployRun, deployReport, deployTasks } from '../../src/deploy/tasks.js';
import type { DeployRun, PackageReport } from '../../src/deploy/types.js';
import { ExitCode, type OpsError, usageError } from '../../src/errors.js';
import { LaunchFailure } from '../../src/pm2/failure.js';
import { runTasks } from '../../src/tasks/run.js';
import { holdAppLock } from '../shared/app-lock.js';
import { type Cli, type Invocation, runCommand } from '../shared/context.js';
import { err, errorJson, exitCodeOf, out, printError, table } from '../shared/output.js';
import { appPm2, namedPackages } from '../shared/pm2-context.js';
import { type DeployFlags, deployOptions } from './flags.js';

/** `opsctl deploy [packages...]` */
export function deploy(cmd: Invocation<DeployFlags>, names: string[]): Promise<number> {
  return runCommand(cmd, async (cli) => {
    if (cli.opts.rollback && cli.opts.target)
      throw usageError(
        '--rollback cannot be used with --target yet.',
        'Deploy the previous commit with --target instead.',
      );
    if (cli.opts.rollback) return (await import('./rollback.js')).rollbackReleases(cli, names);
    const config = cli.config();
    const flags = cli.opts;
    const packages = namedPackages(config, names).length ? namedPackages(config, names) : config.packages;
    // what this release is made of, read before anything changes; a dirty tree is refused under production, except
    // by a local dry run, which changes nothing: it runs and reports that a real deploy would be refused
    const provenance = await readProvenance(cli.runner, config.root, packages);
    const shippable = { production: isProduction(config), allowDirty: flags.allowDirty };
    const refused = flags.dryRun && !flags.target ? shippableRefusal(provenance.git, shippable) : undefined;
    if (!refused) verifyShippable(provenance.git, shippable);
    if (!cli.json) err(`Deploying ${describeGitSource(provenance.git)} as ${provenance.by}${describeEnv(config)}`);
    if (refused && !cli.json) {
      err(`⚠ A real deploy would be refused: ${lowerFirst(refused.message)}`);
      if (refused.hint) err(`→ ${refused.hint}`);
    }
    if (flags.target) {
      if (flags.foreground || flags.start === false)
        throw usageError(
          `${flags.foreground ? '--foreground' : '--no-start'} cannot be used with --target.`,
          'Deploy here without --target, or leave the flag out.',
        );
      const { deployTarget } = await import('./target.js');
      return deployTarget(cli as Cli<DeployFlags & { target: string }>, packages, provenance);
    }
    // an interrupt lets the deploy clean up (delete a candidate, put the previous release back), README "`opsctl deploy`"
    const signal = flags.foreground ? undefined : cli.deferSignals();
    const run = createDeployRun(
      { config, runner: cli.runner, pm2: appPm2(cli, config) },
      packages,
      { ...deployOptions(flags), provenance },
      signal,
    );
    // --dry-run only reads, so it takes no lock; --foreground gives it back before its children run (README, "One at a time")
    const release = flags.dryRun ? () => {} : holdAppLock(cli, config.root);
    try {
      await runTasks(deployTasks(run), {}, { renderer: cli.renderer });
    } finally {
      release();
    }
    if (!run.errors.length && flags.foreground && !flags.dryRun) return foreground(cli, run);
    return finish(cli, run, refused);
  });
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** `refused`: under --dry-run, why a real deploy would be refused (README, "Provenance"). */
function finish(cli: Cli, run: DeployRun, refused?: OpsError): number {
  const reports = deployReport(run);
  const error = run.signal?.aborted ? (run.signal.reason as Error) : run.errors[0];
  const exitCode = error ? exitCodeOf(error) : ExitCode.ok;
  if (!cli.json) {
    printReports(reports);
    for (const { name, lines } of logTails(reports)) {
      err(chalk.bold(`\nLast log lines of ${name}:`));
      for (const line of lines) err(`  ${line}`);
    }
    for (const r of reports.filter((p) => p.rolledBackTo)) err(`↺ ${r.name}: release ${r.rolledBackTo} was put back.`);
    if (error) printError(error, cli.debug);
  }
  return cli.finish(exitCode, {
    dryRun: Boolean(run.options.dryRun),
    provenance: run.options.provenance,
    ...(refused ? { refused: { code: refused.code, message: refused.message, hint: refused.hint } } : {}),
    packages: reports.map(({ logTail, ...r }) => ({ ...r, ...(logTail?.length ? { logTail } : {}) })),
    // the lines are not "shown above" in a JSON document: the hint names the failed step's logTail instead
    ...(error
      ? { error: { ...errorJson(error), ...(error instanceof LaunchFailure ? { hint: error.jsonHint } : {}) } }
      : {}),
  });
}

/** Each failed start's last log lines (README, "`opsctl deploy`"): its failed step's, printed in every renderer. */
function logTails(reports: PackageReport[]): Array<{ name: string; lines: string[] }> {
  return reports.flatMap((r) => {
    const lines = r.steps.find((s) => s.logTail?.length)?.logTail ?? r.logTail;
    return lines?.length ? [{ name: r.name, lines }] : [];
  });
}

const STATUS = { done: chalk.green('done'), skipped: chalk.dim('skipped'), failed: chalk.red('failed') };

function printReports(reports: PackageReport[]): void {
  const rows = reports.flatMap((r) =>
    r.steps.map((s, i) => [i ? '' : r.name, s.step, STATUS[s.status], `${s.durationMs} ms`, s.reason ?? '']),
  );
  if (rows.length) out(table(rows, ['package', 'step', 'status', 'time', 'detail']));
}

/** `--foreground`: the packages as child processes with prefixed logs until Ctrl-C. */
async function foreground(cli: Cli, run: DeployRun): Promise<number> {
  const colors = [chalk.cyan, chalk.magenta, chalk.yellow, chalk.green, chalk.blue];
  const width = Math.max(...run.packages.map((p) => p.name.length));
  const prefix = new Map(run.packages.map((p, i) => [p.name, colors[i % colors.length]!(`${p.name.padEnd(width)} │`)]));
  const result = await runForeground(run, {
    onLine: (pkg, line) => err(`${prefix.get(pkg)} ${line}`),
    onEvent: (text) => err(text),
  });
  if (result.failed) {
    printError(result.failed, cli.debug);
    for (const line of packageTail(result, 10)) err(`  ${line}`);
  }
  return cli.finish(result.exitCode, {
    packages: deployReport(run),
    foreground: true,
    ...(result.failed ? { error: errorJson(result.failed) } : {}),
  });
}
