// Hand-written: listr2's simple renderer logs every event (each start, each skip with the title repeated) and never
// says which parent a task belongs to, so `↓ install [SKIPPED: …]` does not name its package.
import chalk from 'chalk';
import { type ListrRenderer, ListrTaskEventType, type ListrTaskObject, ListrTaskState } from 'listr2';
import { redact } from '../output/redact.js';

type AnyTask = ListrTaskObject<object, typeof ListrRenderer, typeof ListrRenderer>;

export interface PlainRendererOptions {
  /** Where each line goes (stderr: stdout is for results). */
  write?: (line: string) => void;
  /**
   * How many outer levels of a task's path its line leaves out (default 1, the top-level group). A pipeline's steps
   * add one level above a command's own groups (README, "Pipelines").
   */
  hiddenLevels?: number;
}

/**
 * One line per finished step (README, "Output"): `✔`, `↓` skipped, `✖` failed, `↩` rolled back. A step nested in a
 * group is named after the groups it is in, below the top level (`↓ backend install: skipped (no dependencies)`:
 * "install and build" is the phase, "backend" whose step it is). Groups print no line of their own.
 */
export class PlainRenderer {
  static nonTTY = true;
  static rendererOptions: PlainRendererOptions = {};
  static rendererTaskOptions = {};
  private readonly write: (line: string) => void;
  private readonly hiddenLevels: number;
  private readonly printed = new Set<string>();

  constructor(
    private readonly tasks: AnyTask[],
    options: PlainRendererOptions,
  ) {
    this.write = options.write ?? ((line) => process.stderr.write(`${line}\n`));
    this.hiddenLevels = options.hiddenLevels ?? 1;
  }

  render(): void {
    this.watch(this.tasks);
  }

  end(): void {}

  private watch(tasks: AnyTask[]): void {
    for (const task of tasks) {
      task.on(ListrTaskEventType.SUBTASK, (subtasks) => this.watch(subtasks as AnyTask[]));
      task.on(ListrTaskEventType.MESSAGE, (message) => {
        if (message.skip) this.line(task, chalk.yellow('↓'), skipText(task, message.skip));
        // the error itself follows in the command's report
        else if (message.error && !task.hasSubtasks()) this.line(task, chalk.red('✖'), task.title);
      });
      task.on(ListrTaskEventType.STATE, (state) => {
        if (state === ListrTaskState.COMPLETED && !task.hasSubtasks()) this.line(task, chalk.green('✔'), task.title);
        if (state === ListrTaskState.ROLLED_BACK) this.line(task, chalk.red('↩'), task.title);
        // a skip without a message: its title says what was skipped (a message, when there is one, comes next)
        if (state === ListrTaskState.SKIPPED) queueMicrotask(() => this.line(task, chalk.yellow('↓'), task.title));
      });
    }
  }

  /** Print the task's line once: icon, the groups it is in (below the top level), then the text. */
  private line(task: AnyTask, icon: string, text: string | undefined): void {
    if (!task.hasTitle() || this.printed.has(task.id)) return;
    this.printed.add(task.id);
    const owners = task.path.slice(this.hiddenLevels, -1);
    this.write(redact([icon, ...owners, text ?? ''].join(' ').trimEnd()));
  }
}

/** A skip message names its task (`install: skipped (…)`), or is put after the task's title. */
function skipText(task: AnyTask, message: string): string {
  const own = task.path.at(-1) ?? '';
  return message.startsWith(own) ? message : `${own}: ${message}`;
}
