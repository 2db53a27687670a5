import { isAbsolute, posix, relative, sep } from 'node:path';
import { CONFIG_FILES } from '../config/load.js';
import type { ResolvedConfig } from '../config/types.js';
import { OpsError, usageError } from '../errors.js';
import type { Archive } from './archive.js';
import type { SshHost } from './ssh.js';

const COPY_TIMEOUT_MS = 10 * 60_000; // hundreds of MB over a slow link
const QUICK_TIMEOUT_MS = 30_000;

/** Where opsctl keeps things on a host, all under the target's `path` (README, "Several hosts"). */
export function hostPaths(path: string) {
  const state = posix.join(path, '.opsctl');
  return {
    archives: posix.join(state, 'archives'),
    archive: (sha: string) => posix.join(state, 'archives', `${sha}.tgz`),
    agent: (sha: string) => posix.join(state, 'agent', sha.slice(0, 16)),
    /** The app's working tree: the shipped archive unpacked; its .opsctl/ holds releases and PM2's home. */
    app: posix.join(path, 'app'),
    /** The sha of the app archive the host serves (what a rollback unpacks again). */
    serving: posix.join(state, 'serving'),
  };
}

// Constant scripts: every value reaches them as a quoted positional argument ("$1"), never inside the script text.
const HAS_FILE = 'test -f "$1" && echo present || echo missing';
// a copy that fails (disk full, connection lost) leaves no partial file; one cut short by a killed shell is swept
// by the next copy of the same archive. umask 077: an app archive holds the app's .env, for the deploy user only
const RECEIVE =
  'umask 077; t="$1.tmp-$$"; trap \'rm -f "$t"; exit 1\' HUP INT TERM PIPE; mkdir -p "$(dirname "$1")" && rm -f "$1".tmp-* && ' +
  '{ cat > "$t" || { rm -f "$t"; exit 1; }; } && echo "$t"';
const VERIFY =
  "const f=require('fs'),h=require('crypto').createHash('sha256').update(f.readFileSync(process.argv[1])).digest('hex');" +
  "if(h!==process.argv[3]){f.rmSync(process.argv[1]);console.error('sha256 '+h);process.exit(1)}f.renameSync(process.argv[1],process.argv[2])";
const UNPACK_ONCE =
  'test -f "$2/.complete" || { rm -rf "$2.tmp" && mkdir -p "$2.tmp" && tar -xzf "$1" -C "$2.tmp" && touch "$2.tmp/.complete" && rm -rf "$2" && mv "$2.tmp" "$2"; }';
// the working tree is replaced, its .opsctl/ (releases, PM2's home) and logs/ kept: releases are copies (README, "Deploy")
const SYNC_APP =
  'mkdir -p "$2" && cd "$2" && for f in * .[!.]* ..?*; do case "$f" in .opsctl|logs) ;; *) if [ -e "$f" ] || [ -L "$f" ]; then rm -rf -- "$f"; fi ;; esac; done && tar -xzf "$1" && printf %s "$3" > "$4"';

/** Copy the archive to the host unless it has it; verify its sha256 there. */
export async function ensureArchive(
  ssh: SshHost,
  archive: Archive,
  path: string,
  signal?: AbortSignal,
): Promise<'copied' | 'present'> {
  const dest = hostPaths(path).archive(archive.sha256);
  const cancel = signal ? { signal } : {};
  const has = await ssh.run([['sh', '-c', HAS_FILE, 'sh', dest]], { timeoutMs: QUICK_TIMEOUT_MS, ...cancel });
  if (has.stdout.trim() === 'present') return 'present';
  const received = await ssh.run([['sh', '-c', RECEIVE, 'sh', dest]], {
    timeoutMs: COPY_TIMEOUT_MS,
    inputFile: archive.file,
    ...cancel,
  });
  verifyOk(ssh, received, `copying ${archive.file}`);
  const verified = await ssh.run([['node', '-e', VERIFY, received.stdout.trim(), dest, archive.sha256]], {
    timeoutMs: QUICK_TIMEOUT_MS,
    ...cancel,
  });
  verifyOk(ssh, verified, `checking the sha256 of the copy (expected ${archive.sha256})`);
  return 'copied';
}

/** Unpack opsctl's agent archive once per version; returns the path of its bin/opsctl.js on the host. */
export async function unpackAgent(ssh: SshHost, agent: Archive, path: string, signal?: AbortSignal): Promise<string> {
  const paths = hostPaths(path);
  const dir = paths.agent(agent.sha256);
  const res = await ssh.run([['sh', '-c', UNPACK_ONCE, 'sh', paths.archive(agent.sha256), dir]], {
    timeoutMs: COPY_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
  verifyOk(ssh, res, 'unpacking opsctl');
  return posix.join(dir, 'bin', 'opsctl.js');
}

/** Make `<path>/app` the content of the app archive `sha` (already on the host), and record it as serving. */
export async function unpackApp(ssh: SshHost, sha: string, path: string): Promise<void> {
  const paths = hostPaths(path);
  const res = await ssh.run([['sh', '-c', SYNC_APP, 'sh', paths.archive(sha), paths.app, sha, paths.serving]], {
    timeoutMs: COPY_TIMEOUT_MS,
  });
  verifyOk(ssh, res, 'unpacking the app');
}

function verifyOk(ssh: SshHost, res: { exitCode: number; stderr: string; timedOut: boolean }, what: string): void {
  if (res.exitCode === 0) return;
  const why = res.timedOut ? 'timed out' : res.stderr.trim().split('\n').at(-1) || `exit ${res.exitCode}`;
  throw new OpsError('HOST_STEP_FAILED', `${ssh.host.name}: ${what} failed (${why}).`, {
    hint: 'Check free disk space and permissions under the target path on that host.',
  });
}

/** argv of opsctl on a host, on the host's app tree or `root`, with `globals` (hostGlobals). */
export function hostOpsctlArgv(
  path: string,
  bin: string,
  globals: string[],
  args: string[],
  root = hostPaths(path).app,
): string[] {
  return ['node', bin, '-C', root, ...globals, ...args];
}

/**
 * The global options a host-side opsctl gets: `--env`, and `-c` when the config is not found by its default name
 * (it is shipped with the app, so it must sit inside the app root).
 */
export function hostGlobals(config: Pick<ResolvedConfig, 'root' | 'file' | 'envName'>): string[] {
  const globals = config.envName ? ['--env', config.envName] : [];
  if (!config.file || CONFIG_FILES.includes(posix.basename(config.file))) return globals;
  const rel = relative(config.root, config.file);
  if (rel.startsWith('..') || isAbsolute(rel)) {
    throw usageError(
      `The config ${config.file} is outside the app root, so it would not reach the hosts.`,
      'Keep the config file inside the app (it is copied with it), then pass -c with its path.',
    );
  }
  return [...globals, '-c', rel.split(sep).join('/')];
}

// constant: $1 the archives folder, $2 the agent folder's parent, then the archive names and agent folder to keep
const PRUNE =
  'a="$1"; g="$2"; shift 2; keep=" $* "; ' +
  'for f in "$a"/*.tgz; do [ -e "$f" ] || continue; case "$keep" in *" ${f##*/} "*) ;; *) rm -f -- "$f" ;; esac; done; ' +
  'for d in "$g"/*; do [ -e "$d" ] || continue; case "$keep" in *" ${d##*/} "*) ;; *) rm -rf -- "$d" ;; esac; done';

/**
 * Delete the archives and agents a host no longer needs: all but the app archives `keepApps` (the one serving and
 * the one before, what a rollback unpacks) and the agent `agentSha`. Releases are pruned by the host's own deploy.
 */
export async function pruneHost(ssh: SshHost, path: string, keepApps: string[], agentSha: string): Promise<void> {
  const paths = hostPaths(path);
  const keep = [...keepApps, agentSha].map((sha) => `${sha}.tgz`);
  const agentDir = posix.basename(paths.agent(agentSha));
  await ssh.run([['sh', '-c', PRUNE, 'sh', paths.archives, posix.dirname(paths.agent(agentSha)), ...keep, agentDir]], {
    timeoutMs: QUICK_TIMEOUT_MS,
  });
}
