import { spawnSync } from 'node:child_process';
import { BIN } from './cli.js';

/** util-linux `script` runs the CLI on a real pseudo-terminal (stdin, stdout and stderr are all the pty). */
export const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * The built CLI on a pseudo-terminal of 100 × 40 in `cwd`, without CI or GITHUB_ACTIONS unless `env` sets them:
 * its exit code and everything the terminal showed. The arguments are joined into `script`'s command line, so
 * none may hold a space.
 */
export function runOnPty(
  cwd: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): { exitCode: number | null; output: string } {
  const command = ['stty cols 100 rows 40;', process.execPath, BIN, ...args].join(' ');
  const { CI: _ci, GITHUB_ACTIONS: _gha, ...base } = process.env;
  const res = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd,
    env: { ...base, TERM: 'xterm-256color', ...env },
    encoding: 'utf8',
    timeout: 90_000,
  });
  if (res.error) throw res.error;
  return { exitCode: res.status, output: res.stdout };
}

/** What the terminal showed for a command that must succeed. */
export function onPty(cwd: string, args: string[], env: Record<string, string | undefined> = {}): string {
  const { exitCode, output } = runOnPty(cwd, args, env);
  if (exitCode !== 0) throw new Error(`opsctl ${args.join(' ')} exited ${exitCode}:\n${output}`);
  return output;
}
