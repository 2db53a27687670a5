import { AsyncLocalStorage } from 'node:async_hooks';
import { type Listr, type ListrTask, ListrTaskEventType, type ListrTaskWrapper, SilentRenderer } from 'listr2';

// biome-ignore lint/suspicious/noExplicitAny: a parent task of any context and renderer
type ParentTask = ListrTaskWrapper<any, any, any>;

interface Parent {
  task: ParentTask;
}

const parents = new AsyncLocalStorage<Parent>();

/**
 * Run `body` so that every task list it runs (through runTasks) is shown nested under `parent` in the parent's
 * live view, instead of rendering on its own: a pipeline step's command lists its own tasks under the step
 * (README, "Pipelines").
 */
export function runNested<T>(parent: Parent, body: () => Promise<T>): Promise<T> {
  return parents.run(parent, body);
}

export interface NestOptions {
  concurrent: boolean | number;
  exitOnError: boolean;
  transient: boolean;
}

/**
 * The task list to run under the current parent task, or undefined outside runNested. listr2 attaches subtasks only
 * when a task function returns them; here the list runs inside the parent's function, so it is attached the same way
 * by hand (the renderers follow the SUBTASK event), and keeps its own errors.
 */
export function nestedList<Ctx extends object>(
  tasks: ListrTask<Ctx>[],
  ctx: Ctx,
  options: NestOptions,
): Listr<Ctx> | undefined {
  const parent = parents.getStore();
  if (!parent) return undefined;
  const { concurrent, exitOnError } = options;
  const list = parent.task.newListr(tasks as never, { concurrent, exitOnError, ctx }) as Listr<Ctx>;
  list.errors = [];
  list.rendererClass = SilentRenderer; // the parent's renderer draws it
  // a command that prints a full report of its own (`transient`, doctor): its lines would only say it twice
  if (options.transient) return list;
  const task = parent.task.task;
  task.subtasks = [...(task.subtasks ?? []), ...list.tasks];
  task.emit(ListrTaskEventType.SUBTASK, list.tasks as never);
  return list;
}
