import { parse } from 'shell-quote';
import type { ResolvedConfig } from '../config/types.js';
import { ExitCode, type ExitCodeValue, usageError } from '../errors.js';
import type { AppPackage } from '../packages/types.js';

/** A step of a pipeline (README, "Pipelines"): an opsctl command line, or an npm script of one package. */
export type PipelineStep = { text: string /** `pipelines.<name>[i]`, for messages. */; where: string } & (
  | { kind: 'opsctl'; args: string[] }
  | { kind: 'npm'; pkg: AppPackage; script: string }
);

const NPM_STEP = /^npm:([^:]+):(.+)$/;

/**
 * The steps of pipeline `name`, parsed and checked against the app: an unknown pipeline, an npm step naming an unknown
 * package or script, or a step that is not a plain command line throws a usage error (exit 2) before anything runs.
 */
export function readPipeline(config: ResolvedConfig, name: string): PipelineStep[] {
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
  return texts.map((text, i) => parseStep(config, text, `pipelines.${name}[${i}]`));
}

function parseStep(config: ResolvedConfig, text: string, where: string): PipelineStep {
  const npm = NPM_STEP.exec(text.trim());
  if (npm) return npmStep(config, text, npm[1]!, npm[2]!, where);
  const args = splitCommandLine(text, where);
  if (!args.length) throw usageError(`${where} is empty.`, 'Write an opsctl command line, e.g. "doctor".');
  if (args[0] === 'opsctl') args.shift(); // "opsctl doctor" reads as well as "doctor"
  if (args[0] === 'run') {
    throw usageError(`${where}: "${text}" runs a pipeline from a pipeline.`, "List that pipeline's steps instead.");
  }
  return { text, where, kind: 'opsctl', args };
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

function npmStep(config: ResolvedConfig, text: string, name: string, script: string, where: string): PipelineStep {
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
  return { text, where, kind: 'npm', pkg, script };
}

/** The exit code of a run that went on after failures: the worst step's (the highest code). */
export function worstExitCode(codes: number[]): ExitCodeValue {
  return codes.reduce((worst, code) => Math.max(worst, code), ExitCode.ok) as ExitCodeValue;
}

/** A step ended by Ctrl-C or SIGTERM: the pipeline stops there even under --continue-on-error. */
export function isInterrupt(code: number): boolean {
  return code === ExitCode.interrupted || code === ExitCode.terminated;
}
