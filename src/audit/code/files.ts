import { posix } from 'node:path';
import { glob } from 'tinyglobby';
import type { AppPackage } from '../../packages/types.js';
import type { Runner } from '../../process/runner.js';

const GIT_TIMEOUT_MS = 30_000;

/** Never audited: dependencies, build output, vendored and generated code, tool state. */
const ALWAYS_SKIPPED = [
  '**/node_modules/**',
  '**/.git/**',
  '**/.opsctl/**',
  '**/vendor/**',
  '**/vendors/**',
  '**/third_party/**',
  '**/third-party/**',
  '**/bower_components/**',
  '**/coverage/**',
  '**/.next/**',
  '**/.nuxt/**',
  '**/.cache/**',
  '**/*.min.js',
  '**/*.bundle.js',
];

export interface ShippedFiles {
  /** Files to read, relative to the root with `/`: tracked and untracked-not-ignored in git, else all present. */
  files: string[];
  /** Whether the root is in a git work tree (then `.env` files count only when tracked). */
  inGit: boolean;
  /** In git: the tracked files (ignored-but-tracked included); outside git: every file. */
  tracked: Set<string>;
}

/**
 * What ships with the app's source. In a git work tree: what git tracks (ignored-but-tracked included) plus new
 * files not ignored; outside git: every file. Build outputs of every package (`outputs`, default dist and build)
 * and the ALWAYS_SKIPPED folders are left out either way, and so are symbolic links.
 */
export async function shippedFiles(root: string, packages: AppPackage[], runner: Runner): Promise<ShippedFiles> {
  const outputs = packages.flatMap((p) =>
    p.outputs.map((o) => (p.path === '.' ? `${o}/**` : posix.join(p.path.split('\\').join('/'), o, '**'))),
  );
  const skipped = [...ALWAYS_SKIPPED, ...outputs];
  // symbolic links are never followed nor read: a loop would repeat the tree, a link out of the app reads elsewhere
  const walk = { cwd: root, dot: true, onlyFiles: true, followSymbolicLinks: false, ignore: skipped };
  const git = await runner.run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    timeoutMs: GIT_TIMEOUT_MS,
  });
  if (git.exitCode === 0 && !git.notFound) {
    const tracked = await runner.run('git', ['ls-files', '-z', '--cached'], { cwd: root, timeoutMs: GIT_TIMEOUT_MS });
    const listed = git.stdout.split('\0').filter(Boolean);
    const kept = new Set(await glob('**/*', walk));
    // git's list, minus what ALWAYS_SKIPPED and the outputs leave out (one glob, then a set lookup per file)
    const files = listed.filter((f) => kept.has(f));
    return { files, inGit: true, tracked: new Set(tracked.stdout.split('\0').filter(Boolean)) };
  }
  const files = await glob('**/*', walk);
  return { files, inGit: false, tracked: new Set(files) };
}
