import type { ListrTaskWrapper } from 'listr2';
import type { ResolvedConfig } from '../../src/config/types.js';
import { ExitCode, isOpsError, usageError } from '../../src/errors.js';
import { isGitHubActions, workflowCommand } from '../../src/output/github.js';
import { runNpmStep } from '../../src/pipelines/npm-step.js';
import {
  isInterrupt,
  nestedPipelineError,
  type PipelineStep,
  readPipeline,
  StepErrors,
  verifyStepPackages,
  worstExitCode,
} from '../../src/pipelines/steps.js';
import { runNested } from '../../src/tasks/nest.js';
import { type RendererKind, runTasks } from '../../src/tasks/run.js';
import { commandLines } from '../shared/command-line.js';
import { type Cli, type GlobalOptions, type Invocation, runCommand } from '../shared/context.js';
import type { ParsedLine } from '../shared/lazy.js';
import { captureStdout, err, exitCodeOf, out, table } from '../shared/output.js';
import { runsUnderDryRun } from './dry-run.js';

export interface RunOptions extends GlobalOptions {
  list?: boolean;
  continueOnError?: boolean;
}

/** One step as the JSON document reports it: `result` is the step's own document (README, "Pipelines"). */
interface StepReport {
  step: string;
  exitCode: number;
  durationMs: number;
  result: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: the step's task, whatever the renderer
type StepTask = ListrTaskWrapper<any, any, any>;

/** `opsctl run <pipeline> [--continue-on-error]`, `opsctl run --list` */
export function run(cmd: Invocation<RunOptions>, pipeline?: string): Promise<number> {
  return runCommand(cmd, async (cli) => {
    const config = cli.config();
    if (cli.opts.list) return list(cli, config);
    if (!pipeline) throw usageError('Name the pipeline to run.', 'See `opsctl run --list` for the pipelines.');
    // every step is checked (its words, then against the command table) before the first one runs; all errors at once
    const errors = new StepErrors();
    const steps = readPipeline(config, pipeline, errors);
    const globals = globalArgs(cli.opts);
    const { verify: verifyCommandLine } = commandLines();
    const commands = new Map<PipelineStep, string>(); // each opsctl step's command, `migrate create`
    for (const step of steps) {
      if (step.kind !== 'opsctl') continue;
      try {
        const parsed = await verifyCommandLine(commandLine(globals, step.args)).catch((error: unknown) => {
          throw isOpsError(error) ? usageError(`${step.where} "${step.text}": ${error.message}`, error.hint) : error;
        });
        // `-C . run x` hides the command behind options: only the parse tells (a pipeline in a pipeline never ends)
        if (parsed?.command === 'run') throw nestedPipelineError(step);
        if (parsed && sameApp(parsed.opts, cli.opts)) verifyStepPackages(config, step, packagesNamed(parsed));
        if (parsed) commands.set(step, parsed.command);
      } catch (error) {
        if (!isOpsError(error)) throw error;
        errors.add(step.index, error);
      }
    }
    errors.verify();

    const reports: StepReport[] = [];
    const skipped: string[] = [];
    let halted: string | undefined; // the step that stopped the pipeline
    let current: string | undefined; // the step running now
    cli.soFar = () => ({
      pipeline,
      steps: reports,
      skipped: steps.slice(reports.length + (current ? 1 : 0)).map((s) => s.text),
      ...(current ? { interruptedStep: current } : {}),
    });
    const tasks = steps.map((step) => ({
      title: step.text,
      skip: () => (halted ? `skipped: "${halted}" failed` : false),
      task: async (_ctx: object, task: StepTask) => {
        current = step.text;
        const command = commands.get(step);
        const report =
          cli.opts.dryRun && command !== undefined && !runsUnderDryRun(command)
            ? dryRunSkip(step, command, task)
            : await runStep(cli, config, globals, step, task);
        current = undefined;
        reports.push(report);
        if (report.exitCode === ExitCode.ok) return;
        if (!cli.opts.continueOnError || isInterrupt(report.exitCode)) halted = step.text;
        throw new Error(`"${step.text}" failed (exit code ${report.exitCode})`);
      },
    }));
    await runTasks(
      tasks,
      {},
      {
        renderer: lineRenderer(cli),
        exitOnError: false,
        keepSubtasks: true,
        hiddenLevels: 2, // a step's command names its lines as it does alone
      },
    );
    for (const step of steps.slice(reports.length)) skipped.push(step.text);

    const exitCode = worstExitCode(reports.map((r) => r.exitCode));
    if (!cli.json) err(summary(pipeline, reports, skipped, exitCode));
    return cli.finish(exitCode, { pipeline, steps: reports, skipped });
  });
}

/**
 * A pipeline prints plain lines on a terminal too (README, "Pipelines"): its steps print full reports of their own
 * (doctor's table, an npm script's output), which a live view redrawn over them would tear apart.
 */
function lineRenderer(cli: Cli<RunOptions>): RendererKind {
  return cli.renderer === 'default' ? 'plain' : cli.renderer;
}

/** A step whose command has no dry run, under --dry-run: skipped, so that the dry run changes nothing. */
function dryRunSkip(step: PipelineStep, command: string, task: StepTask): StepReport {
  task.skip(`dry run: would run opsctl ${command} (it has no dry run)`);
  return { step: step.text, exitCode: ExitCode.ok, durationMs: 0, result: { command, dryRun: true, skipped: true } };
}

/** Run one step and time it; under GitHub Actions its output is one folded group, a failure an annotation. */
async function runStep(
  cli: Cli<RunOptions>,
  config: ResolvedConfig,
  globals: string[],
  step: PipelineStep,
  task: StepTask,
): Promise<StepReport> {
  const github = isGitHubActions();
  if (github) {
    err(workflowCommand('group', `opsctl ${step.text}`));
    // a signal ends the run at once: the group is closed before the error, which stays in sight
    cli.onSignalExit = (error) => endGroup(step, exitCodeOf(error));
  }
  const started = performance.now();
  let exitCode: number = ExitCode.failed;
  try {
    const done =
      step.kind === 'npm' ? await npmStep(cli, config, step, task) : await opsctlStep(cli, globals, step.args, task);
    exitCode = done.exitCode;
    return { step: step.text, exitCode, durationMs: Math.round(performance.now() - started), result: done.result };
  } finally {
    if (github) {
      cli.onSignalExit = undefined;
      endGroup(step, exitCode);
    }
  }
}

/** Close a step's GitHub Actions group; a step that did not succeed is also an annotation (README, "Pipelines"). */
function endGroup(step: PipelineStep, exitCode: number): void {
  err(workflowCommand('endgroup', ''));
  if (exitCode === ExitCode.ok) return;
  const what = isInterrupt(exitCode) ? `was interrupted (exit code ${exitCode})` : `failed with exit code ${exitCode}`;
  err(workflowCommand('error', `Step "${step.text}" ${what}.`, { title: 'opsctl run' }));
}

/**
 * An opsctl command line, run in this process (no new Node start) with the pipeline's global options. Its task lists
 * nest under the step's task; under --json its document is captured from stdout as the step's `result`.
 */
async function opsctlStep(cli: Cli<RunOptions>, globals: string[], args: string[], task: StepTask) {
  const { run: runCommandLine } = commandLines();
  const capture = cli.json ? captureStdout() : undefined;
  let exitCode: number;
  let printed = '';
  try {
    exitCode = await runNested({ task }, () => runCommandLine(commandLine(globals, args)));
  } finally {
    printed = capture?.stop() ?? '';
  }
  return { exitCode, result: cli.json ? parseDocument(printed) : null };
}

function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text.trim() ? { output: text } : null; // a command that printed no document (a bug): keep what it said
  }
}

async function npmStep(
  cli: Cli<RunOptions>,
  config: ResolvedConfig,
  step: Extract<PipelineStep, { kind: 'npm' }>,
  task: StepTask,
) {
  const what = `npm run ${step.script} in ${step.pkg.name}`;
  if (!config.packages.some((p) => p.name === step.pkg.name)) {
    task.skip(`skipped: ${step.pkg.name} is not among --package`);
    return { exitCode: ExitCode.ok, result: { package: step.pkg.name, script: step.script, skipped: true } };
  }
  if (cli.opts.dryRun) {
    task.skip(`dry run: would ${what}`);
    return { exitCode: ExitCode.ok, result: { package: step.pkg.name, script: step.script, dryRun: true } };
  }
  // every line is logged (in the step's group under GitHub Actions); under --json only a failure's last lines
  const res = await runNpmStep({ config, runner: cli.runner }, step, (line) => {
    if (!cli.json) err(line);
  });
  if (res.exitCode !== ExitCode.ok) {
    const why = res.timedOut ? 'timed out' : `exited with ${res.scriptExitCode}`;
    err(`✖ ${what} ${why}.`);
    if (cli.json) for (const line of res.tail) err(`  ${line}`);
    err(`→ Run \`npm run ${step.script}\` in ${step.pkg.path} to see the whole output.`);
  }
  return { exitCode: res.exitCode, result: res };
}

/** The package names a parsed step gives: `-p`, and an argument named like `[packages...]` or `<package>`. */
function packagesNamed(parsed: ParsedLine): string[] {
  const values = parsed.args.filter((a) => /^packages?$/.test(a.name)).map((a) => a.value);
  return [...((parsed.opts.package as string[] | undefined) ?? []), ...values.flat()].filter(
    (v): v is string => typeof v === 'string',
  );
}

/** Whether a step reads the pipeline's app (a step's own `-C`, `--config` or `--env` is checked when it runs). */
function sameApp(step: Record<string, unknown>, o: RunOptions): boolean {
  return step.cwd === o.cwd && step.config === o.config && step.env === o.env;
}

/** The pipeline's global options, given again to every step (README, "Pipelines"). */
function globalArgs(o: RunOptions): string[] {
  const args: string[] = [];
  if (o.cwd) args.push('--cwd', o.cwd);
  if (o.config) args.push('--config', o.config);
  if (o.env) args.push('--env', o.env);
  if (o.json) args.push('--json');
  if (o.package?.length) args.push('--package', o.package.join(','));
  if (o.concurrency) args.push('--concurrency', String(o.concurrency));
  if (o.yes) args.push('--yes');
  if (o.dryRun) args.push('--dry-run');
  if (o.debug) args.push('--debug');
  if (o.color === false) args.push('--no-color');
  return args;
}

/** argv as commander reads it: the node and script slots, then the global options, then the step's words. */
function commandLine(globals: string[], args: string[]): string[] {
  return ['node', 'opsctl', ...globals, ...args];
}

function summary(pipeline: string, reports: StepReport[], skipped: string[], exitCode: number): string {
  const failed = reports.filter((r) => r.exitCode !== ExitCode.ok).length;
  // an npm step left out by --package or --dry-run did run, as a skip
  const passedOver = reports.filter((r) => isPassedOver(r.result)).length;
  const parts = [`${reports.length - failed - passedOver} passed`, `${failed} failed`];
  if (passedOver) parts.push(`${passedOver} skipped`);
  if (skipped.length) parts.push(`${skipped.length} not run`);
  return `${exitCode === ExitCode.ok ? '✔' : '✖'} pipeline ${pipeline}: ${parts.join(', ')} (exit code ${exitCode})`;
}

function isPassedOver(result: unknown): boolean {
  const r = result as { skipped?: boolean; dryRun?: boolean } | null;
  return Boolean(r && (r.skipped === true || (r.dryRun === true && !('command' in r))));
}

function list(cli: Cli<RunOptions>, config: ResolvedConfig): number {
  const pipelines = config.pipelines;
  if (cli.json) return cli.finish(ExitCode.ok, { pipelines });
  const names = Object.keys(pipelines);
  if (!names.length) {
    err('No pipelines in the config.');
    err('→ Add some under `pipelines` (README, "Pipelines").');
    return ExitCode.ok;
  }
  out(
    table(
      names.map((name) => [name, pipelines[name]!.join(' → ')]),
      ['PIPELINE', 'STEPS'],
    ),
  );
  return ExitCode.ok;
}
