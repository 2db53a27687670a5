import { join } from 'node:path';
import { ExitCode, OpsError } from '../errors.js';
import { dependencyDirs, readInstalled } from '../packages/installed.js';
import type { Runner } from '../process/runner.js';
import { takeSnapshot } from './snapshot.js';
import type { PlannedChange, UpdateTarget } from './update-plan.js';

export const NPM_INSTALL_TIMEOUT_MS = 10 * 60_000;
export const TEST_TIMEOUT_MS = 15 * 60_000;
const NPM_FLAGS = ['--no-audit', '--no-fund'];

export interface UpdateRunContext {
  runner: Runner;
  /** `--latest`: the planned lines (with new ranges) for this package. */
  latest?: PlannedChange[];
  /** `--test`: run the test script and restore everything when it fails. */
  test: boolean;
  /** Where node_modules is copied aside (same file system as the package, ideally). */
  backupDir: string;
  /** Progress lines (npm's and the tests' output, redacted). */
  onLine?: (line: string) => void;
  /** Progress steps: "updating", "testing", "restoring". */
  onStep?: (step: string) => void;
}

/** A changed dependency, as `update --json` reports it. */
export interface Change {
  package: string;
  name: string;
  from: string | null;
  to: string | null;
}

export interface PackageUpdate {
  package: string;
  status: 'updated' | 'unchanged' | 'restored';
  changes: Change[];
  /** Why it was restored, with the last lines of the failing output. */
  reason?: string;
  output?: string;
}

/**
 * Update one package: `npm update` within its ranges (the named dependencies or all), or with --latest `npm install`
 * of the new ranges. With `test`, run its test script and restore package.json, the lockfile and node_modules
 * byte for byte when the script fails. An npm failure throws an OpsError (exit 3) after restoring.
 */
export async function updatePackage(target: UpdateTarget, ctx: UpdateRunContext): Promise<PackageUpdate> {
  const { pkg } = target;
  const before = await installedVersions(
    pkg.dir,
    target.deps.map((d) => d.name),
  );
  const snapshot = ctx.test ? await takeSnapshot(pkg.dir, ctx.backupDir) : undefined;
  try {
    ctx.onStep?.('updating');
    for (const args of npmCommands(target, ctx.latest)) {
      const res = await ctx.runner.run('npm', [...args, ...NPM_FLAGS], {
        cwd: pkg.dir,
        timeoutMs: NPM_INSTALL_TIMEOUT_MS,
        onLine: ctx.onLine,
      });
      if (res.exitCode !== 0) {
        if (snapshot) await snapshot.restore();
        throw new OpsError('NPM_FAILED', `npm ${args.join(' ')} failed in ${pkg.path} (exit ${res.exitCode}).`, {
          hint: `${snapshot ? 'Everything was restored. ' : ''}npm said: ${tail(res.stderr || res.stdout, 5)}`,
          exitCode: ExitCode.failed,
        });
      }
    }
    const after = await installedVersions(
      pkg.dir,
      target.deps.map((d) => d.name),
    );
    const changes = target.deps
      .filter((d) => before.get(d.name) !== after.get(d.name))
      .map((d) => ({
        package: pkg.name,
        name: d.name,
        from: before.get(d.name) ?? null,
        to: after.get(d.name) ?? null,
      }));
    if (snapshot && changes.length) {
      ctx.onStep?.('testing');
      const res = await ctx.runner.run('npm', ['test'], {
        cwd: pkg.dir,
        timeoutMs: TEST_TIMEOUT_MS,
        onLine: ctx.onLine,
      });
      if (res.exitCode !== 0) {
        ctx.onStep?.('restoring');
        await snapshot.restore();
        const why = res.timedOut ? `timed out after ${TEST_TIMEOUT_MS} ms` : `exited ${res.exitCode}`;
        return {
          package: pkg.name,
          status: 'restored',
          changes,
          reason: `npm test ${why}`,
          output: tail(`${res.stdout}\n${res.stderr}`, 20),
        };
      }
    }
    await snapshot?.discard();
    return { package: pkg.name, status: changes.length ? 'updated' : 'unchanged', changes };
  } catch (err) {
    await snapshot?.discard().catch(() => {});
    throw err;
  }
}

/** The npm command lines for one package. */
export function npmCommands(target: UpdateTarget, latest: PlannedChange[] | undefined): string[][] {
  const names = target.deps.map((d) => d.name);
  if (!latest) return [['update', ...(target.named ? names : [])]];
  const mine = latest.filter((c) => c.package === target.pkg.name);
  const spec = target.deps;
  const isExact = (c: PlannedChange) => c.range === c.to;
  const ranged = mine.filter((c) => c.range && !isExact(c)).map((c) => `${c.name}@${c.range}`);
  const exact = mine.filter((c) => c.range && isExact(c)).map((c) => `${c.name}@${c.range}`);
  const within = mine.filter((c) => !c.range && spec.some((d) => d.name === c.name)).map((c) => c.name);
  const commands: string[][] = [];
  if (ranged.length) commands.push(['install', ...ranged]);
  if (exact.length) commands.push(['install', '--save-exact', ...exact]);
  if (within.length) commands.push(['update', ...within]);
  return commands;
}

async function installedVersions(dir: string, names: string[]): Promise<Map<string, string | undefined>> {
  const dirs = dependencyDirs(dir);
  const entries = await Promise.all(
    names.map(async (n) => [n, (await readInstalled(dirs, n))?.version || undefined] as const),
  );
  return new Map(entries);
}

function tail(text: string, lines: number): string {
  return text.trim().split('\n').slice(-lines).join('\n');
}

/** The backup folder for one package under the app's .opsctl/. */
export function backupDirFor(root: string, pkgName: string): string {
  return join(root, '.opsctl', 'update-backup', pkgName.replace(/[^\w.-]+/g, '_'));
}
