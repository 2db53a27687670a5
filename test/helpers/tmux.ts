import { spawnSync } from 'node:child_process';
import { BIN } from './cli.js';

/** tmux emulates a terminal: what it captures is the screen a person sees, after every cursor move and erase. */
export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

/** A CLI run in its own tmux server (a socket of its own: other tmux sessions are never touched). */
export interface TmuxSession {
  /** Resolve once the screen (with its scrollback) matches `pattern`; fail after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Type keys as tmux names them: `C-c`. */
  keys(...keys: string[]): void;
  /** The exit code, once the command ended (the shell prints it after the CLI is gone). */
  exited(timeoutMs?: number): Promise<number>;
  /** The screen and its scrollback, each line's trailing blanks removed, without the exit code line. */
  screen(): string;
  /** Stop the tmux server of this session (and with it the CLI). */
  kill(): void;
}

const EXIT = '__opsctl_exit_';

/**
 * Start `opsctl <args>` in `cwd` on a tmux terminal of 120 × 40, without CI or GITHUB_ACTIONS. No argument may hold a
 * space or a quote.
 */
export function startTmux(cwd: string, args: string[], env: Record<string, string | undefined> = {}): TmuxSession {
  const socket = `opsctl-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const tmux = (...a: string[]) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...a], { encoding: 'utf8' });
  const { CI: _ci, GITHUB_ACTIONS: _gha, TMUX: _tmux, ...base } = process.env;
  const command = `${[process.execPath, BIN, ...args].join(' ')}; echo ${EXIT}$?; sleep 600`;
  const started = spawnSync(
    'tmux',
    ['-L', socket, '-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '40', '-c', cwd, command],
    { env: { ...base, TERM: 'xterm-256color', ...env }, encoding: 'utf8' },
  );
  if (started.status !== 0) throw new Error(`tmux did not start: ${started.stderr}`);
  tmux('set-option', '-g', 'history-limit', '10000');
  const raw = () => tmux('capture-pane', '-p', '-S', '-', '-E', '-').stdout ?? '';
  const until = async (pattern: RegExp, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(raw())) {
      if (Date.now() > deadline) throw new Error(`the screen never showed ${pattern}; it showed:\n${raw()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    waitFor: (pattern, timeoutMs = 30_000) => until(pattern, timeoutMs),
    keys: (...keys) => void tmux('send-keys', ...keys),
    async exited(timeoutMs = 90_000) {
      await until(new RegExp(`${EXIT}\\d+`), timeoutMs);
      return Number(new RegExp(`${EXIT}(\\d+)`).exec(raw())![1]);
    },
    screen: () =>
      raw()
        .split('\n')
        .map((line) => line.trimEnd())
        .filter((line) => !line.startsWith(EXIT))
        .join('\n')
        .trimEnd(),
    kill: () => void tmux('kill-server'),
  };
}
