import { parse } from 'shell-quote';
import type { ResolvedConfig } from '../config/types.js';
import { ExitCode, type ExitCodeValue, isOpsError, type OpsError, usageError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';

/** A step of a pipeline (README, "Pipelines"): an opsctl command line, or an npm script of one package. */
export type PipelineStep = {
  text: string;
  /** `pipelines.<name>[i]`, for messages. */
  where: string;
  /** Its place in the pipeline, from 0. */
  index: number;
} & ({ kind: 'opsctl'; args: string[] } | { kind: 'npm'; pkg: AppPackage; script: string });

const NPM_STEP = /^npm:([^:]+):(.+)$/;

/**
 * Every step error of a pipeline, reported together in step order before anything runs (README, "Pipelines"): one
 * run of `opsctl run` names all that must be fixed.
 */
export class StepErrors {
  private readonly found: Array<{ index: number; error: OpsError }> = [];

  add(index: number, error: OpsError): void {
    this.found.push({ index, error });
  }

  /** Throw the errors found as one usage error (exit 2), the steps' messages in step order; nothing if none. */
  verify(): void {
    if (!this.found.length) return;
    const errors = this.found.sort((a, b) => a.index - b.index).map((f) => f.error);
    if (errors.length === 1) throw errors[0];
    const hints = [...new Set(errors.map((e) => e.hint).filter((h): h is string => Boolean(h)))];
    throw usageError(errors.map((e) => e.message).join('\n  '), hints.join('\n  ') || undefined);
  }
}

/**
 * The steps of pipeline `name`, parsed and checked against the app. An unknown pipeline throws a usage error (exit 2);
 * a step naming an unknown package or script, or that is not a plain command line, goes to `errors` and is left out.
 */
export function readPipeline(config: ResolvedConfig, name: string, errors: StepErrors): PipelineStep[] {
  const texts = config.pipelines[name];
  if (!texts) {
    const known = Object.keys(config.pipelines);
    throw usageError(
      `Unknown pipeline "${name}".`,
      known.length
        ? `Pipelines in the config: ${known.join(', ')} (see \`opsctl run --list\`).`
        : 'Add one under `pipelines` in the config (README, "Pipelines").',
    );
  }
  if (!texts.length) throw usageError(`Pipeline "${name}" has no steps.`, `Add steps to pipelines.${name}.`);
  const steps: PipelineStep[] = [];
  texts.forEach((text, index) => {
    try {
      steps.push(parseStep(config, text, `pipelines.${name}[${index}]`, index));
    } catch (error) {
      if (!isOpsError(error)) throw error;
      errors.add(index, error);
    }
  });
  return steps;
}

function parseStep(config: ResolvedConfig, text: string, where: string, index: number): PipelineStep {
  const npm = NPM_STEP.exec(text.trim());
  if (npm) return npmStep(config, text, npm[1]!, npm[2]!, where, index);
  const args = splitCommandLine(text, where);
  if (!args.length) throw usageError(`${where} is empty.`, 'Write an opsctl command line, e.g. "doctor".');
  if (args[0] === 'opsctl') args.shift(); // "opsctl doctor" reads as well as "doctor"
  const step: PipelineStep = { text, where, index, kind: 'opsctl', args };
  if (args[0] === 'run') throw nestedPipelineError(step);
  return step;
}

/** A step that runs a pipeline (README, "Pipelines"): refused, a pipeline naming itself would never end. */
export function nestedPipelineError(step: PipelineStep): OpsError {
  return usageError(
    `${step.where}: "${step.text}" runs a pipeline from a pipeline.`,
    "List that pipeline's steps instead.",
  );
}

/**
 * Shell words, with quotes (`migrate create "add users"`), but no shell: `$VAR` stays as written, and an operator
 * (`|`, `&&`, `>`) or a glob is refused rather than silently dropped.
 */
function splitCommandLine(text: string, where: string): string[] {
  const words = parse(text, (key) => `$${key}`);
  return words.map((word) => {
    if (typeof word === 'string') return word;
    throw usageError(
      `${where}: "${text}" is not a plain command line (${'op' in word ? word.op : 'comment'}).`,
      'A step is one opsctl command with its arguments, or npm:<package>:<script>; no shell operators.',
    );
  });
}

function npmStep(
  config: ResolvedConfig,
  text: string,
  name: string,
  script: string,
  where: string,
  index: number,
): PipelineStep {
  const packages = config.appPackages ?? config.packages;
  const pkg = packages.find((p) => p.name === name);
  if (!pkg) {
    throw usageError(
      `${where}: "${text}" names package "${name}", which the app does not have.`,
      `Packages: ${packages.map((p) => p.name).join(', ') || 'none'} (see \`opsctl config show\`).`,
    );
  }
  if (!(script in pkg.scripts)) {
    const scripts = Object.keys(pkg.scripts);
    throw usageError(
      `${where}: package "${name}" has no npm script "${script}".`,
      scripts.length ? `Its scripts: ${scripts.join(', ')}.` : `Add "${script}" to ${pkg.path}/package.json.`,
    );
  }
  return { text, where, index, kind: 'npm', pkg, script };
}

/**
 * The package names an opsctl step gives (`-p`, `deploy <packages>`) are the app's, checked with the rest before
 * anything runs: a typo must not stop a release after its migrations ran (README, "Pipelines").
 */
export function verifyStepPackages(config: ResolvedConfig, step: PipelineStep, names: string[]): void {
  const known = (config.appPackages ?? config.packages).map((p) => p.name);
  const unknown = names.find((name) => !known.includes(name));
  if (unknown === undefined) return;
  throw usageError(
    `${step.where} "${step.text}": unknown package "${unknown}".`,
    `Packages: ${known.join(', ') || 'none'} (see \`opsctl config show\`).`,
  );
}

/** The exit code of a run that went on after failures: the worst step's (the highest code). */
export function worstExitCode(codes: number[]): ExitCodeValue {
  return codes.reduce((worst, code) => Math.max(worst, code), ExitCode.ok) as ExitCodeValue;
}

/** A step ended by Ctrl-C or SIGTERM: the pipeline stops there even under --continue-on-error. */
export function isInterrupt(code: number): boolean {
  return code === ExitCode.interrupted || code === ExitCode.terminated;
}
