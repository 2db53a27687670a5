import { Listr, ListrLogger, type ListrTask, ProcessOutput } from 'listr2';
import { nestedList } from './nest.js';
import { PlainRenderer } from './plain-renderer.js';

/** default: listr2's live renderer (TTY); plain: a line per finished step (CI, no TTY); silent: nothing (--json). */
export type RendererKind = 'default' | 'plain' | 'silent';

export interface RunTasksOptions {
  renderer: RendererKind;
  concurrent?: boolean | number;
  exitOnError?: boolean;
  /**
   * The command prints a full report of its own afterwards: clear the live view when done, and print no plain
   * lines (they would only say everything twice).
   */
  transient?: boolean;
  /** Keep each group's tasks in the live view once it is done (a pipeline's steps), instead of folding them. */
  keepSubtasks?: boolean;
  /** Plain lines leave out this many outer levels of a task's path (PlainRendererOptions.hiddenLevels). */
  hiddenLevels?: number;
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
  const nested = nestedList(tasks, ctx, {
    concurrent: options.concurrent ?? false,
    exitOnError: options.exitOnError ?? true,
    transient: options.transient ?? false,
  });
  if (nested) return runList(nested);
  const processOutput = new ProcessOutput(process.stderr, process.stderr);
  const logger = new ListrLogger({ processOutput, useIcons: true });
  const plain = options.renderer === 'plain';
  const write = (line: string) => processOutput.toStderr(line);
  const listr = new Listr<Ctx, 'default' | 'silent' | typeof PlainRenderer, typeof PlainRenderer>(tasks as never, {
    ctx,
    concurrent: options.concurrent ?? false,
    exitOnError: options.exitOnError ?? true,
    collectErrors: 'minimal',
    renderer: options.renderer === 'plain' ? (options.transient ? 'silent' : PlainRenderer) : options.renderer,
    // listr2 also falls back to it by itself when stdout is no terminal
    fallbackRendererCondition: plain,
    fallbackRenderer: options.transient ? ('silent' as never) : PlainRenderer,
    rendererOptions: {
      logger,
      write,
      collapseErrors: false,
      showErrorMessage: true,
      clearOutput: options.transient ?? false,
      collapseSubtasks: !options.keepSubtasks,
      hiddenLevels: options.hiddenLevels,
    } as never,
    fallbackRendererOptions: { write, hiddenLevels: options.hiddenLevels } as never,
    registerSignalListeners: false,
  });
  return runList(listr);
}

async function runList(listr: { run(): Promise<unknown>; errors: Array<{ error: Error }> }): Promise<Error[]> {
  try {
    await listr.run();
  } catch (err) {
    if (!listr.errors.length) throw err;
  }
  return listr.errors.map((e) => e.error);
}
