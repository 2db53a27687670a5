import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { type OpsError, usageError } from '../errors.js';
import { readPackageJson } from '../packages/discover.js';
import type { AppPackage } from '../packages/types.js';
import type { Runner } from '../process/runner.js';

/** What a release was made from (README, "Provenance"): recorded when it goes live, shown by `status`. */
export interface Provenance {
  git: GitState;
  /** Each deployed package's package.json `version` (null when it has none). */
  versions: Record<string, string | null>;
  /** The OS user who deployed. */
  by: string;
  /** When the deploy started (ISO 8601). */
  at: string;
}

export type GitState =
  | {
      repository: true;
      /** HEAD's full hash; absent in a repository with no commit yet. */
      commit?: string;
      /** The branch checked out; absent on a detached HEAD. */
      branch?: string;
      /** Uncommitted changes (tracked or untracked, not ignored) under the app root, `.opsctl/` aside. */
      dirty: boolean;
      changedFiles: number;
      /**
       * git refused to read the repository the app lives in (a checkout owned by another user, "detected dubious
       * ownership"; a format it does not know; a timeout): what it said. The tree then counts as dirty.
       */
      unreadable?: string;
    }
  | { repository: false; reason: string };

const IGNORED_ROOT = 'the app root is ignored by the git repository it is in (git tracks none of its files)';
const GIT_TIMEOUT_MS = 10_000; // git status on a large tree with a cold cache
// a variable the caller set (a git hook's GIT_DIR) must not point git at another repository
const GIT_ENV = { GIT_DIR: undefined, GIT_WORK_TREE: undefined, GIT_INDEX_FILE: undefined, GIT_OPTIONAL_LOCKS: '0' };

/** The provenance of a deploy of `packages` from `root`, read through the runner (git never changes anything). */
export async function readProvenance(runner: Runner, root: string, packages: AppPackage[]): Promise<Provenance> {
  return {
    git: await readGitState(runner, root),
    versions: Object.fromEntries(packages.map((p) => [p.name, readPackageJson(p.dir)?.version ?? null])),
    by: osUser(),
    at: new Date().toISOString(),
  };
}

export async function readGitState(runner: Runner, root: string): Promise<GitState> {
  const git = (args: string[]) => runner.run('git', args, { cwd: root, timeoutMs: GIT_TIMEOUT_MS, env: GIT_ENV });
  const inside = await git(['rev-parse', '--is-inside-work-tree']);
  if (inside.exitCode !== 0 && hasDotGit(root)) {
    // a repository git will not read (or no git to read it) is not "no repository": whether its tree is committed
    // cannot be told
    const said = inside.notFound ? 'git is not installed' : inside.timedOut ? 'it timed out' : gitSaid(inside.stderr);
    return { repository: true, dirty: true, changedFiles: 0, unreadable: `git could not read it: ${said}` };
  }
  if (inside.notFound) return { repository: false, reason: 'git is not installed' };
  if (inside.exitCode !== 0 || inside.stdout.trim() !== 'true') {
    return { repository: false, reason: inside.timedOut ? 'git timed out' : 'not a git repository' };
  }
  const [head, branch, status, ignored] = await Promise.all([
    git(['rev-parse', '--verify', '-q', 'HEAD']),
    git(['symbolic-ref', '--short', '-q', 'HEAD']),
    git(['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.', ':(exclude).opsctl']),
    git(['check-ignore', '-q', '--', '.']),
  ]);
  // an app folder the repository above it ignores: its status is empty, yet none of its code is that commit's
  if (ignored.exitCode === 0) return { repository: false, reason: IGNORED_ROOT };
  const changedFiles = status.exitCode === 0 ? countEntries(status.stdout) : 0;
  const statusFailed =
    status.exitCode === 0 ? undefined : status.timedOut ? 'git status timed out' : gitSaid(status.stderr);
  return {
    repository: true,
    ...(head.exitCode === 0 && head.stdout.trim() ? { commit: head.stdout.trim() } : {}),
    ...(branch.exitCode === 0 && branch.stdout.trim() ? { branch: branch.stdout.trim() } : {}),
    // a status git could not give counts as dirty: under production that refuses rather than ships blind
    dirty: status.exitCode !== 0 || changedFiles > 0,
    changedFiles,
    ...(statusFailed ? { unreadable: `git could not read it: ${statusFailed}` } : {}),
  };
}

/** git's first line of complaint, without its `fatal: `. */
function gitSaid(stderr: string): string {
  return (stderr.split('\n')[0] ?? '').replace(/^fatal: /, '') || 'git failed';
}

/** A `.git` folder (or file, for a worktree) in `root` or a folder above it. */
function hasDotGit(root: string): boolean {
  for (let dir = root; ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return true;
    if (dirname(dir) === dir) return false;
  }
}

/** Entries of `git status --porcelain -z`: `XY path\0`, a rename or copy followed by its source path `\0`. */
function countEntries(text: string): number {
  const fields = text.split('\0').filter(Boolean);
  let count = 0;
  for (let i = 0; i < fields.length; i++) {
    count++;
    if (/^[RC]/.test(fields[i]!)) i++; // the source path of a rename/copy is its own field
  }
  return count;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** `3f9a1c2 on main, dirty (2 files)`, `not a git repository`: a release's provenance for people. */
export function describeGit(git: GitState): string {
  if (!git.repository) return git.reason;
  if (git.unreadable) return git.unreadable;
  const commit = git.commit ? git.commit.slice(0, 7) : 'no commit yet';
  const branch = git.branch ? ` on ${git.branch}` : ' (detached HEAD)';
  const dirty = git.dirty ? `, dirty (${git.changedFiles} changed file${git.changedFiles === 1 ? '' : 's'})` : '';
  return `${commit}${branch}${dirty}`;
}

/**
 * Under production only committed code ships (README, "Provenance"): a dirty tree is a usage error naming how many
 * files changed, unless `--allow-dirty`. Outside a git repository nothing is refused.
 */
export function verifyShippable(git: GitState, options: { production: boolean; allowDirty?: boolean }): void {
  const refusal = shippableRefusal(git, options);
  if (refusal) throw refusal;
}

/** Why a deploy of `git` would be refused (what `verifyShippable` throws), or undefined: a dry run reports it. */
export function shippableRefusal(
  git: GitState,
  options: { production: boolean; allowDirty?: boolean },
): OpsError | undefined {
  if (!options.production || options.allowDirty || !git.repository || !git.dirty) return undefined;
  if (git.unreadable) {
    return usageError(
      `git could not read the working tree (${git.unreadable.replace(/^git could not read it: /, '')}): a production deploy ships committed code only, and whether this tree is committed cannot be told.`,
      'Run `git status` in the app root as this user and fix what it says (a checkout owned by another user: deploy as its owner), or pass --allow-dirty to deploy anyway (the release is recorded as dirty).',
    );
  }
  const files = `${git.changedFiles} changed file${git.changedFiles === 1 ? '' : 's'}`;
  return usageError(
    `The git working tree has uncommitted changes (${files}); a production deploy ships committed code only.`,
    'Commit or stash them (`git status` lists them), or pass --allow-dirty to deploy them anyway (the release is recorded as dirty).',
  );
}

/** The deploy banner's words for `git`: `3f9a1c2 on main`, `(not a git repository)`. */
export function describeGitSource(git: GitState): string {
  return git.repository ? describeGit(git) : `(${git.reason})`;
}
