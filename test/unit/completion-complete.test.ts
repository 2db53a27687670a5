import { describe, expect, it } from 'vitest';
import { complete } from '../../commands/completion/complete.js';
import { buildProgram } from '../../commands/index.js';

const app = { packages: () => ['backend', 'frontend'], pipelines: () => ['release'] };
const values = (...words: string[]) => complete(buildProgram(), words, app).map((c) => c.value);

describe('complete (the command table walked at the cursor)', () => {
  it('an option that takes a value completes that value, not a command', () => {
    expect(values('-p', '')).toEqual(['backend', 'frontend']);
    expect(values('--cwd', '')).toEqual([]); // a folder: the shell's own file completion
    expect(values('-C', '/srv/app', 'dep')).toEqual(['deploy']); // the value is skipped, not taken for a command
  });

  it('a variadic option takes values until the next flag', () => {
    expect(values('doctor', '--only', 'postgres', '')).toEqual([]);
    expect(values('doctor', '--only', 'postgres', '--ti')).toEqual(['--timeout']);
  });

  it('a variadic package argument keeps completing packages; a fixed one stops', () => {
    expect(values('deploy', 'backend', '')).toEqual(['backend', 'frontend']);
    expect(values('scale', '')).toEqual(['backend', 'frontend']);
    expect(values('scale', 'backend', '')).toEqual([]); // <count>
    expect(values('run', 'release', '')).toEqual([]);
  });

  it('an option of a command is offered with those of the commands above it, once each', () => {
    const options = values('db', 'url', '--');
    expect(options).toContain('--show-password');
    expect(options).toContain('--json');
    expect(new Set(options).size).toBe(options.length);
    expect(values('migrate', '--')).not.toContain('--show-password');
  });
});
