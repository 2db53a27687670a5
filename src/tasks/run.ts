import { Listr, ListrLogger, type ListrTask, ProcessOutput } from 'listr2';

/** default: listr2's live renderer (TTY); plain: a line per event (CI, no TTY); silent: nothing (--json). */
export type RendererKind = 'default' | 'plain' | 'silent';

export interface RunTasksOptions {
  renderer: RendererKind;
  concurrent?: boolean | number;
  exitOnError?: boolean;
  /** Clear the live view when done (the command prints a full report of its own afterwards). */
  transient?: boolean;
}

/**
 * Run a task list, rendering to stderr so stdout stays for results. Returns the errors the tasks threw
 * (with `exitOnError: false` a failing task does not stop the others).
 */
export async function runTasks<Ctx extends object>(
  tasks: ListrTask<Ctx>[],
  ctx: Ctx,
  options: RunTasksOptions,
): Promise<Error[]> {
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  const logger = new ListrLogger({ processOutput, useIcons: true });
  const listr = new Listr<Ctx, 'default' | 'simple' | 'silent', 'simple'>(tasks as never, {
    ctx,
    concurrent: options.concurrent ?? false,
    exitOnError: options.exitOnError ?? true,
    collectErrors: 'minimal',
    renderer: options.renderer === 'plain' ? 'simple' : options.renderer,
    fallbackRendererCondition: options.renderer === 'plain',
    fallbackRenderer: 'simple',
    rendererOptions: {
      logger,
      collapseErrors: false,
      showErrorMessage: true,
      clearOutput: options.transient ?? false,
    } as never,
    fallbackRendererOptions: { logger } as never,
    registerSignalListeners: false,
  });
  try {
    await listr.run();
  } catch (err) {
    if (!listr.errors.length) throw err;
  }
  return listr.errors.map((e) => e.error);
}
