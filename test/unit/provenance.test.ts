import { describe, expect, it } from 'vitest';
import { describeGit, readGitState, verifyShippable } from '../../src/app/provenance.js';
import { fakeRunner } from '../helpers/fake-runner.js';

const INSIDE = 'git rev-parse --is-inside-work-tree';
const HEAD = 'git rev-parse --verify -q HEAD';
const BRANCH = 'git symbolic-ref --short -q HEAD';
const STATUS = 'git status --porcelain=v1 -z --untracked-files=all -- . :(exclude).opsctl';
const IGNORED = 'git check-ignore -q -- .';
const SHA = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';

describe('readGitState', () => {
  it('counts each changed file once, a rename (which -z writes as two fields) included', async () => {
    const runner = fakeRunner({
      [INSIDE]: { stdout: 'true\n' },
      [HEAD]: { stdout: `${SHA}\n` },
      [BRANCH]: { stdout: 'main\n' },
      [STATUS]: { stdout: ' M api/server.js\0R  new.js\0old.js\0?? notes.txt\0' },
      [IGNORED]: { exitCode: 1 },
    });
    const git = await readGitState(runner, '/app');
    expect(git).toEqual({ repository: true, commit: SHA, branch: 'main', dirty: true, changedFiles: 3 });
    expect(describeGit(git)).toBe('1a2b3c4 on main, dirty (3 changed files)');
    // every git call through the runner, bounded, with the caller's GIT_DIR left out
    for (const call of runner.calls) {
      expect(call.options).toMatchObject({ cwd: '/app', timeoutMs: expect.any(Number), env: { GIT_DIR: undefined } });
    }
  });

  it('a detached HEAD in a repository with no commit yet', async () => {
    const git = await readGitState(
      fakeRunner({
        [INSIDE]: { stdout: 'true\n' },
        [HEAD]: { exitCode: 1 },
        [BRANCH]: { exitCode: 1 },
        [STATUS]: {},
        [IGNORED]: { exitCode: 1 },
      }),
      '/app',
    );
    expect(git).toEqual({ repository: true, dirty: false, changedFiles: 0 });
    expect(describeGit(git)).toBe('no commit yet (detached HEAD)');
  });

  it('not a repository, or no git at all: said, never an error', async () => {
    const outside = fakeRunner({ [INSIDE]: { exitCode: 128, stderr: 'fatal: not a git repository' } });
    expect(await readGitState(outside, '/app')).toEqual({ repository: false, reason: 'not a git repository' });
    const none = fakeRunner({ [INSIDE]: { exitCode: -1, notFound: true } });
    expect(await readGitState(none, '/app')).toEqual({ repository: false, reason: 'git is not installed' });
  });

  it('a status git could not give counts as dirty (production then refuses rather than ships blind)', async () => {
    const git = await readGitState(
      fakeRunner({
        [INSIDE]: { stdout: 'true\n' },
        [HEAD]: { stdout: SHA },
        [BRANCH]: { stdout: 'main' },
        [STATUS]: { exitCode: 128, stderr: 'fatal: index file corrupt\n' },
        [IGNORED]: { exitCode: 1 },
      }),
      '/app',
    );
    // said as such, not as "uncommitted changes (0 changed files)"
    expect(git).toMatchObject({ dirty: true, unreadable: 'git could not read it: index file corrupt' });
    expect(() => verifyShippable(git, { production: true })).toThrow(
      /^git could not read the working tree \(index file corrupt\)/,
    );
  });
});

describe('verifyShippable', () => {
  const dirty = { repository: true as const, commit: SHA, dirty: true, changedFiles: 1 };
  it('refuses a dirty tree under production only, and not with --allow-dirty', () => {
    expect(() => verifyShippable(dirty, { production: true })).toThrow(
      expect.objectContaining({
        exitCode: 2,
        message:
          'The git working tree has uncommitted changes (1 changed file); a production deploy ships committed code only.',
        hint: expect.stringContaining('--allow-dirty'),
      }),
    );
    expect(() => verifyShippable(dirty, { production: true, allowDirty: true })).not.toThrow();
    expect(() => verifyShippable(dirty, { production: false })).not.toThrow();
    expect(() =>
      verifyShippable({ repository: false, reason: 'not a git repository' }, { production: true }),
    ).not.toThrow();
  });
});
