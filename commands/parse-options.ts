import { InvalidArgumentError } from 'commander';

/** Option value parsers shared by every command: a bad value is a usage error (exit 2) naming what was expected. */
function integer(what: string, min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected ${what}, got "${value}".`);
    }
    return n;
  };
}

export const positiveInt = integer('a positive integer', 1);
export const milliseconds = integer('a whole number of milliseconds', 0);
export const positiveMilliseconds = integer('milliseconds (> 0)', 1);
export const lineCount = integer('a number of lines', 0);
