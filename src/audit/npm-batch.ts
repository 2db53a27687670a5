import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import type { Runner, RunResult } from '../process/runner.js';

/**
 * npm's own command for several packages in one process (README, "`opsctl audit`", npm advisories): most of an
 * `npm audit` is node starting and loading npm's ~1,000 modules, the same CPU-bound work for every package. So one
 * node process loads npm once and runs npm's `audit` command for each package, as npm's CLI entry does
 * (lib/cli/entry.js: `new Npm()`, `load()`, `exec()`), with the package as the working folder, the argv
 * `npm audit --json …` and the environment as it came in, so npm reads each package's .npmrc, npm_config_* and the
 * user and global npmrc itself; several packages at once, so their registry requests overlap
 * (npm-batch-child.cjs). The only parts of the CLI left out print to the terminal at exit (the update notice,
 * "a complete log can be found in …").
 */

/** npm 10.8 is the first whose `Npm` takes the output streams and whose `load()` returns the command to run. */
const FIRST_VERSION = '10.8.0';
const MARK = '@@opsctl-npm@@';
/** Beside this module both in src/ and in the bundle (the build copies it into dist/cli/). */
const CHILD = fileURLToPath(new URL('./npm-batch-child.cjs', import.meta.url));

/** npm's CLI script (bin/npm-cli.js) of the `npm` on PATH, when it can run in a batch; else undefined. */
export function findNpmCli(env: Record<string, string | undefined> = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const bin = join(dir, 'npm');
    try {
      accessSync(bin, constants.X_OK);
    } catch {
      continue;
    }
    // the `npm` npm installs is a link to its bin/npm-cli.js; anything else (a wrapper, a shim) runs as it is
    const cli = realpathSync(bin);
    if (basename(cli) !== 'npm-cli.js') return undefined;
    const root = dirname(dirname(cli));
    try {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name?: string; version?: string };
      return pkg.name === 'npm' && semver.gte(pkg.version ?? '0.0.0', FIRST_VERSION) ? cli : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** What one package's npm command gave: as a child process of its own would have (stdout, stderr). */
export type BatchResult = Pick<RunResult, 'stdout' | 'stderr' | 'timedOut'>;

/**
 * Run `npm <args>` in each folder, `atOnce` at a time, in one node process. The results by job index; a job the
 * process did not finish has no entry (no `node` on PATH, an npm it cannot run so, a crash).
 */
export async function runNpmBatch(
  runner: Runner,
  cli: string,
  jobs: Array<{ dir: string; args: string[] }>,
  options: { timeoutMs: number; atOnce: number },
): Promise<Map<number, BatchResult>> {
  // `node` from PATH, as npm's `#!/usr/bin/env node` line picks it
  const { timeoutMs, atOnce } = options;
  const res = await runner.run('node', [CHILD, MARK, cli, String(timeoutMs), String(atOnce)], {
    cwd: jobs[0]?.dir,
    input: JSON.stringify(jobs),
    // each job has its own bound inside; this one is for the process itself
    timeoutMs: timeoutMs * Math.ceil(jobs.length / Math.max(1, atOnce)) + 30_000,
  });
  const results = new Map<number, BatchResult>();
  for (const line of res.stdout.split('\n')) {
    if (!line.startsWith(MARK)) continue;
    let msg: { i?: number } & BatchResult;
    try {
      msg = JSON.parse(line.slice(MARK.length)) as { i?: number } & BatchResult;
    } catch {
      continue; // cut short by the process's end (its bound, a crash): that job runs as a process of its own
    }
    if (msg.i !== undefined) results.set(msg.i, { stdout: msg.stdout, stderr: msg.stderr, timedOut: msg.timedOut });
  }
  return results;
}
