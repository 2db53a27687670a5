import type { IPty } from 'node-pty';
import { errorMessage } from '../errors.js';
import { onExitSync } from '../process/exit-cleanup.js';
import type { InspectorAddress } from './inspector-url.js';

type PtyModule = typeof import('node-pty');

/** node-pty, or why it cannot load here (it is a native module built on install: README, "`opsctl debug`"). */
export type PtyLoad = { ok: true; pty: PtyModule } | { ok: false; reason: string };

/** Load node-pty only when a session opens, so every other command works on a machine where it did not build. */
export async function loadPty(load: () => Promise<unknown> = () => import('node-pty')): Promise<PtyLoad> {
  try {
    const mod = (await load()) as Partial<PtyModule> & { default?: PtyModule };
    const pty = typeof mod.spawn === 'function' ? (mod as PtyModule) : mod.default;
    if (typeof pty?.spawn !== 'function') return { ok: false, reason: 'node-pty has no spawn function' };
    return { ok: true, pty };
  } catch (error) {
    return { ok: false, reason: errorMessage(error).split('\n')[0]! };
  }
}

/** The user's terminal, handed in by the CLI: the session takes it over and gives it back as it found it. */
export interface Terminal {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

/**
 * An interactive `node inspect <host>:<port>` in a pseudo-terminal bridged to `terminal`: raw mode (so Ctrl-C and
 * every key reach the debugger), resizes passed on, and the terminal restored however the session ends (the debugger
 * exits, `signal` aborts, or opsctl exits). Resolves with node inspect's exit code.
 */
export async function runInspectSession(
  pty: PtyModule,
  address: InspectorAddress,
  terminal: Terminal,
  options: { cwd: string; signal?: AbortSignal },
): Promise<number> {
  const { input, output } = terminal;
  const target = address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
  const session: IPty = pty.spawn(process.execPath, ['inspect', target], {
    name: process.env.TERM || 'xterm-256color',
    cols: output.columns || 80,
    rows: output.rows || 24,
    cwd: options.cwd,
    env: process.env as Record<string, string>,
  });
  const wasRaw = input.isRaw;
  const onInput = (data: string) => session.write(data);
  const onResize = () => session.resize(output.columns || 80, output.rows || 24);
  const dataSub = session.onData((data) => output.write(data));
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    input.removeListener('data', onInput);
    output.removeListener('resize', onResize);
    dataSub.dispose();
    if (input.isTTY) input.setRawMode(wasRaw);
    input.pause();
    try {
      session.kill();
    } catch {
      // it has exited already
    }
  };
  // process.exit (a second Ctrl-C from outside, the grace running out) skips `finally`: the terminal is given back here
  const forgetExitHook = onExitSync(restore);
  input.setEncoding('utf8');
  if (input.isTTY) input.setRawMode(true);
  input.on('data', onInput);
  input.resume();
  output.on('resize', onResize);
  let onAbort: (() => void) | undefined;
  try {
    return await new Promise<number>((resolve) => {
      session.onExit(({ exitCode }) => resolve(exitCode));
      onAbort = () => resolve(130);
      if (options.signal?.aborted) onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  } finally {
    if (onAbort) options.signal?.removeEventListener('abort', onAbort);
    restore();
    forgetExitHook();
  }
}
