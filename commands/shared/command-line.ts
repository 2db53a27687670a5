/** Run or check an opsctl command line in this process (a pipeline's steps, README "Pipelines"). */
export interface CommandLines {
  /** Parse and run argv (`['node', 'opsctl', ...words]`); resolves to its exit code, errors already reported. */
  run(argv: string[]): Promise<number>;
  /** Parse argv against the command table without running it; a usage error throws (exit 2). */
  verify(argv: string[]): Promise<void>;
}

let registered: CommandLines | undefined;

/** The program (commands/index.ts) hands itself over here, so a command can run others without importing it. */
export function registerCommandLines(lines: CommandLines): void {
  registered = lines;
}

export function commandLines(): CommandLines {
  if (!registered) throw new Error('the program has not registered its command lines');
  return registered;
}
