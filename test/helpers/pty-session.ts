import { type ChildProcess, spawn } from 'node:child_process';
import { BIN } from './cli.js';

/** A CLI run on a pseudo-terminal (util-linux `script`) that a test drives by typing, as a person would. */
export interface PtySession {
  /** Resolve once the terminal has shown text matching `pattern` (ANSI codes removed); fail after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Type keys: `'4200\r'`, `'\u0003'` (Ctrl-C). */
  type(keys: string): void;
  /** The exit code, once the program ended. */
  exited(): Promise<number | null>;
  /** Everything the terminal showed so far, ANSI codes removed. */
  output(): string;
  /** Kill the session's process group (for afterEach, when a test failed half-way). */
  kill(): void;
  /** The pid of `script`, whose descendants run the program. */
  pid(): number | undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

/**
 * Start `opsctl <args>` in `cwd` on a pseudo-terminal of 100 × 40, without CI or GITHUB_ACTIONS. `script` forwards
 * what is written to its stdin to the terminal, so a prompt reads it as typed keys. The arguments are joined into
 * `script`'s command line, so none may hold a space.
 */
export function startPty(cwd: string, args: string[], env: Record<string, string | undefined> = {}): PtySession {
  const command = ['stty cols 100 rows 40;', process.execPath, BIN, ...args].join(' ');
  const { CI: _ci, GITHUB_ACTIONS: _gha, ...base } = process.env;
  const child: ChildProcess = spawn('script', ['-qec', command, '/dev/null'], {
    cwd,
    env: { ...base, TERM: 'xterm-256color', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let raw = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    raw += chunk.toString('utf8');
  });
  const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  const output = () => raw.replace(ANSI, '');
  return {
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output())) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`the terminal never showed ${pattern}; it showed:\n${output()}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    type(keys) {
      child.stdin!.write(keys);
    },
    exited: () => exit,
    output,
    pid: () => child.pid,
    kill() {
      if (child.exitCode !== null || child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
  };
}
