import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import semver from 'semver';
import type { Runner, RunResult } from '../process/runner.js';

/**
 * npm's own command, several packages in one process (README, "`opsctl audit`", npm advisories): most of an
 * `npm audit` is node starting and loading npm's ~1,000 modules, the same for every package. So one node process
 * loads npm once and runs npm's `audit` command in each package in turn, exactly as npm's CLI entry does
 * (lib/cli/entry.js: `new Npm()`, `load()`, `exec()`), with the package as the working folder, the argv
 * `npm audit --json …` and a fresh environment each time, so npm reads each package's .npmrc, npm_config_* and
 * the user and global npmrc itself. The only parts of the CLI left out print to the terminal at exit (the update
 * notice, "a complete log can be found in …").
 */

/** npm 10.8 is the first whose `Npm` takes the output streams and whose `load()` returns the command to run. */
const FIRST_VERSION = '10.8.0';
const MARK = '@@opsctl-npm@@';
/** Beside this module both in src/ and in the bundle (the build copies it into dist/cli/). */
const CHILD = fileURLToPath(new URL('./npm-batch-child.cjs', import.meta.url));

/** npm's CLI script and version, from the `npm` on PATH, when it can run in a batch; else undefined. */
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
export type BatchResult = Pick<RunResult, 'exitCode' | 'stdout' | 'stderr' | 'timedOut'>;

/**
 * Run `npm <args>` in each folder, one after the other in one node process. The results by job index; a job the
 * process did not finish (it failed, or a job before it timed out) has no entry: the caller runs it again.
 * `unsupported` when this npm cannot run in a batch (the caller then spawns npm per package).
 */
export async function runNpmBatch(
  runner: Runner,
  cli: string,
  jobs: Array<{ dir: string; args: string[] }>,
  timeoutMs: number,
): Promise<{ results: Map<number, BatchResult>; unsupported?: string; notFound?: boolean }> {
  // `node` from PATH, as npm's `#!/usr/bin/env node` line picks it
  const res = await runner.run('node', [CHILD, MARK, cli, String(timeoutMs)], {
    cwd: jobs[0]?.dir,
    input: JSON.stringify(jobs),
    // each job has its own bound inside; this one is for the process itself
    timeoutMs: timeoutMs * jobs.length + 30_000,
  });
  const results = new Map<number, BatchResult>();
  if (res.notFound) return { results, notFound: true };
  let unsupported: string | undefined;
  for (const line of res.stdout.split('\n')) {
    if (!line.startsWith(MARK)) continue;
    const msg = JSON.parse(line.slice(MARK.length)) as { i: number; unsupported?: string } & BatchResult;
    if (msg.unsupported) unsupported = msg.unsupported;
    else results.set(msg.i, { exitCode: msg.exitCode, stdout: msg.stdout, stderr: msg.stderr, timedOut: msg.timedOut });
  }
  return { results, ...(unsupported ? { unsupported } : {}) };
}
