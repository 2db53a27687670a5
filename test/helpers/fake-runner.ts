import type { Runner, RunOptions, RunResult } from '../../src/process/runner.js';

export interface FakeCall {
  command: string;
  args: string[];
  options: RunOptions;
}

/** A table-driven Runner for unit tests: "cmd arg arg" → result (partial). Unknown commands fail loudly. */
export function fakeRunner(table: Record<string, Partial<RunResult>>): Runner & { calls: FakeCall[] } {
  const calls: FakeCall[] = [];
  return {
    calls,
    async run(command, args, options) {
      calls.push({ command, args, options });
      const key = [command, ...args].join(' ');
      const hit = table[key];
      if (!hit) throw new Error(`fakeRunner: unexpected command "${key}"`);
      return { exitCode: 0, stdout: '', stderr: '', timedOut: false, notFound: false, durationMs: 1, ...hit };
    },
  };
}
