import { ExitCode, OpsError } from '../../src/errors.js';

/**
 * SIGHUP (the terminal closed, the SSH session dropped) as an abort: the package runs in a process group of its own,
 * so the hangup never reaches it, and Node's default (exit at once) would leave it running with its ports held.
 * `graceMs` later opsctl exits anyway (its exit handler still stops the tree). README, "`opsctl debug`".
 */
export function abortOnHangup(graceMs: number): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onHangup = () => {
    // the terminal is gone: writing the error to it must not crash the cleanup
    process.stderr.on('error', () => undefined);
    process.stdout.on('error', () => undefined);
    if (controller.signal.aborted) return;
    controller.abort(
      new OpsError('HANGUP', 'Hung up (SIGHUP): the terminal went away.', {
        hint: 'Run it in tmux or screen to keep a session across a dropped connection.',
        exitCode: ExitCode.hangup,
      }),
    );
    timer = setTimeout(() => process.exit(ExitCode.hangup), graceMs);
    timer.unref();
  };
  process.on('SIGHUP', onHangup);
  return {
    signal: controller.signal,
    dispose() {
      process.removeListener('SIGHUP', onHangup);
    },
  };
}
