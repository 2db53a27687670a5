import type { Command } from 'commander';

// PLACEHOLDER: being written; replaced before this lands.
const todo = async (_cmd: Command) => 3;
export const start = todo;
export const stop = todo;
export const status = todo;
export const url = todo;
