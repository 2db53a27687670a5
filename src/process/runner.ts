import { redact } from '../output/redact.js';
import { trackChildGroup } from './exit-cleanup.js';
import { stopGroupsSync } from './process-group.js';

/** The outcome of a finished child process. Failing commands are values, not exceptions. */
export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The command could not be started (ENOENT, EACCES). */
  notFound: boolean;
  durationMs: number;
}

export interface RunOptions {
  cwd?: string;
  /** Named at the call site: every child process has a bound. */
  timeoutMs: number;
  env?: Record<string, string | undefined>;
  input?: string;
  /** A file to stream to the child's stdin (binary, any size: an archive copied to a host). */
  inputFile?: string;
  uid?: number;
  gid?: number;
  signal?: AbortSignal;
  /**
   * How long the child's process group gets between SIGTERM and SIGKILL once it timed out or `signal` aborted
   * (default 2 s): shorter for a child whose caller must end within a second (watch's alert commands).
   */
  killGraceMs?: number;
  /** Called with each redacted output line while the process runs. */
  onLine?: (line: string) => void;
}

export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Called with each redacted output line. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

/** A long-lived child (no timeout) in its own process group, so its whole tree can be signalled. */
export interface SpawnedProcess {
  pid: number | undefined;
  /** Settles when it exits (stdout/stderr are not collected: they go to onLine). */
  exited: Promise<RunResult>;
  /** Signal the child's process group. */
  kill(signal?: NodeJS.Signals): void;
}

/** After a timeout or a cancel, what is left of the child's group (npm's `sh`, `node build.js`) gets this long. */
const LEFTOVER_GRACE_MS = 2_000;

/**
 * Every child process of opsctl goes through a Runner: argument arrays, a timeout, no shell. Each child leads a
 * process group of its own, and the whole group is stopped when the child times out, is cancelled, or opsctl
 * exits (SIGINT/SIGTERM included) while it runs (README, "One at a time").
 */
export interface Runner {
  run(command: string, args: string[], options: RunOptions): Promise<RunResult>;
  /** For long-lived children (deploy --foreground); runners for tests may leave it out. */
  spawn?(command: string, args: string[], options: SpawnOptions): Promise<SpawnedProcess>;
}

/** execa is loaded on first use: most commands never start a child process, and it is a large module. */
let execaModule: Promise<typeof import('execa')> | undefined;
const loadExeca = () => {
  execaModule ??= import('execa');
  return execaModule;
};

/**
 * An execa transform that sees whole lines (execa carries a partial line over to the next chunk, and hands
 * over a last line without a newline at exit) and passes each non-blank one, redacted, to `onLine`.
 */
function lineTap(onLine: (line: string) => void) {
  return function* (line: unknown) {
    if (typeof line === 'string' && line.trim()) onLine(redact(line));
    yield line;
  };
}

export function createRunner(debug?: (line: string) => void): Runner {
  return {
    async run(command, args, options) {
      debug?.(redact(`$ ${command} ${args.join(' ')}${options.cwd ? `  (in ${options.cwd})` : ''}`));
      const started = performance.now();
      const { execa } = await loadExeca();
      const child = execa(command, args, {
        cwd: options.cwd,
        timeout: options.timeoutMs,
        env: options.env,
        extendEnv: true,
        input: options.input,
        ...(options.inputFile ? { inputFile: options.inputFile } : {}),
        uid: options.uid,
        gid: options.gid,
        cancelSignal: options.signal,
        reject: false,
        all: false,
        stripFinalNewline: true,
        forceKillAfterDelay: options.killGraceMs ?? LEFTOVER_GRACE_MS,
        // its own process group: a Ctrl-C reaches opsctl alone, which then ends the child's whole tree
        detached: true,
        ...(options.onLine && {
          stdout: lineTap((line) => options.onLine!(line)),
          stderr: lineTap((line) => options.onLine!(line)),
        }),
      });
      const pgid = child.pid;
      const forget = pgid === undefined ? () => {} : trackChildGroup(pgid);
      // execa signals only the child itself, and then waits for output pipes its children may hold open
      const stopGroup = () => signalGroup(pgid, 'SIGTERM');
      // just after execa's own timer, so the result still says timedOut
      const timer = setTimeout(stopGroup, options.timeoutMs + 100);
      options.signal?.addEventListener('abort', stopGroup, { once: true });
      const res = await child;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', stopGroup);
      forget();
      // what ignored the SIGTERM gets a grace period, then SIGKILL
      if (pgid !== undefined && (res.timedOut || res.isCanceled))
        stopGroupsSync([pgid], options.killGraceMs ?? LEFTOVER_GRACE_MS);
      const notFound = res.failed && ['ENOENT', 'EACCES'].includes((res as { code?: string }).code ?? '');
      return {
        exitCode: res.exitCode ?? (res.timedOut ? 124 : 1),
        stdout: String(res.stdout ?? ''),
        stderr: String(res.stderr ?? ''),
        timedOut: res.timedOut,
        notFound,
        durationMs: Math.round(performance.now() - started),
      };
    },
    async spawn(command, args, options) {
      debug?.(redact(`$ ${command} ${args.join(' ')}${options.cwd ? `  (in ${options.cwd})` : ''}`));
      const { execa } = await loadExeca();
      const started = performance.now();
      const child = execa(command, args, {
        cwd: options.cwd,
        env: options.env,
        extendEnv: true,
        detached: true,
        stdin: 'ignore',
        stdout: lineTap((line) => options.onLine?.(line, 'stdout')),
        stderr: lineTap((line) => options.onLine?.(line, 'stderr')),
        buffer: false,
        reject: false,
      });
      // nothing else reads the output: let it flow through the line taps
      child.stdout?.resume();
      child.stderr?.resume();
      const exited = child.then((res) => ({
        exitCode: res.exitCode ?? (res.signal ? 128 : 1),
        stdout: '',
        stderr: '',
        timedOut: false,
        notFound: res.failed && ['ENOENT', 'EACCES'].includes((res as { code?: string }).code ?? ''),
        durationMs: Math.round(performance.now() - started),
      }));
      return {
        pid: child.pid,
        exited,
        kill(signal = 'SIGTERM') {
          signalGroup(child.pid, signal);
        },
      };
    },
  };
}

function signalGroup(pgid: number | undefined, signal: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, signal);
  } catch {
    // the group is gone already
  }
}
