import type { Invocation } from './context.js';

/** The help of `--target` on deploy, status, start, stop, restart, scale, logs and doctor. */
export const TARGET_HELP = 'run it on every host of targets.<name> over SSH (README, "Several hosts")';

type Action<Args extends unknown[], Options> = (invocation: Invocation<Options>, ...args: Args) => Promise<number>;

/**
 * An action that, under `--target <name>`, runs the same command on every host of the target instead (with the
 * agent of this opsctl) and reports per host; without it, the action itself. `hostArgs` reads the parsed line back
 * as the host-side command line (global options are added by the runner).
 */
export function targetable<Args extends unknown[], Options>(
  action: Action<Args, Options>,
  hostArgs: (opts: NoInfer<Options>, ...args: Args) => string[],
  timeoutMs = 60_000,
): Action<Args, Options> {
  return async (invocation, ...args) => {
    const target = (invocation.opts as { target?: string }).target;
    if (!target) return action(invocation, ...args);
    const { onTarget } = await import('./on-target.js');
    const opts = { ...(invocation.opts as object), target };
    return onTarget({ name: invocation.name, opts }, () => hostArgs(invocation.opts, ...args), timeoutMs);
  };
}
