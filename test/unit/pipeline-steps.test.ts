import { describe, expect, it } from 'vitest';
import type { ResolvedConfig } from '../../src/config/types.js';
import { isOpsError } from '../../src/errors.js';
import { workflowCommand } from '../../src/output/github.js';
import type { AppPackage } from '../../src/packages/types.js';
import { readPipeline as readSteps, StepErrors, worstExitCode } from '../../src/pipelines/steps.js';

/** The steps, or the usage error naming every bad one. */
function readPipeline(c: ResolvedConfig, name: string) {
  const errors = new StepErrors();
  const steps = readSteps(c, name, errors);
  errors.verify();
  return steps;
}

const backend = {
  name: 'backend',
  path: 'backend',
  dir: '/app/backend',
  scripts: { test: 'vitest' },
} as unknown as AppPackage;

function config(pipelines: Record<string, string[]>): ResolvedConfig {
  return { packages: [backend], pipelines } as unknown as ResolvedConfig;
}

function usageMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (isOpsError(error) && error.exitCode === 2) return error.message;
    throw error;
  }
  throw new Error('no usage error');
}

describe('readPipeline', () => {
  it('splits opsctl steps into words, quotes included, and resolves npm steps to their package', () => {
    const steps = readPipeline(
      config({ p: ['audit --level critical', `migrate create "add users"`, 'opsctl doctor', 'npm:backend:test'] }),
      'p',
    );
    expect(steps.map((s) => (s.kind === 'opsctl' ? s.args : [s.pkg.name, s.script]))).toEqual([
      ['audit', '--level', 'critical'],
      ['migrate', 'create', 'add users'],
      ['doctor'],
      ['backend', 'test'],
    ]);
    expect(steps.map((s) => s.where)).toEqual(['pipelines.p[0]', 'pipelines.p[1]', 'pipelines.p[2]', 'pipelines.p[3]']);
  });

  it('keeps $VAR as written: a step is no shell line', () => {
    const [step] = readPipeline(config({ p: ['deploy --env $TARGET'] }), 'p');
    expect(step).toMatchObject({ kind: 'opsctl', args: ['deploy', '--env', '$TARGET'] });
  });

  it.each([
    ['doctor && deploy', /not a plain command line \(&&\)/],
    ['doctor | tee out', /not a plain command line \(\|\)/],
    ['config show > x.yaml', /not a plain command line \(>\)/],
    ['run other', /runs a pipeline from a pipeline/],
    ['npm:nobody:test', /names package "nobody", which the app does not have/],
    ['npm:backend:lint', /package "backend" has no npm script "lint"/],
    ['', /is empty/],
  ])('refuses %j with a usage error (exit 2)', (text, message) => {
    expect(usageMessage(() => readPipeline(config({ p: [text] }), 'p'))).toMatch(message);
  });

  it('reports every bad step in one usage error, in step order', () => {
    const message = usageMessage(() =>
      readPipeline(config({ p: ['doctor', 'npm:nobody:test', 'deploy | tee x', ''] }), 'p'),
    );
    expect(message.split('\n  ')).toEqual([
      'pipelines.p[1]: "npm:nobody:test" names package "nobody", which the app does not have.',
      'pipelines.p[2]: "deploy | tee x" is not a plain command line (|).',
      'pipelines.p[3] is empty.',
    ]);
  });

  it('names the pipelines there are when one is unknown', () => {
    expect(usageMessage(() => readPipeline(config({ ci: ['doctor'], release: ['deploy'] }), 'relase'))).toBe(
      'Unknown pipeline "relase".',
    );
  });
});

describe('worstExitCode', () => {
  it('is the highest code, 0 for none', () => {
    expect(worstExitCode([])).toBe(0);
    expect(worstExitCode([0, 1, 3, 0])).toBe(3);
    expect(worstExitCode([1, 130])).toBe(130);
  });
});

describe('workflowCommand', () => {
  it('escapes the message and properties so a newline or a colon cannot end the command', () => {
    expect(workflowCommand('group', 'opsctl doctor')).toBe('::group::opsctl doctor');
    expect(workflowCommand('error', '50% failed\nsee log', { title: 'opsctl run: ci, 1' })).toBe(
      '::error title=opsctl run%3A ci%2C 1::50%25 failed%0Asee log',
    );
  });
});
