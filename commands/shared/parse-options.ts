import { InvalidArgumentError } from '@commander-js/extra-typings';
import { parseDuration, parseInterval } from '../../src/logs/duration.js';

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
export const processId = integer('a process id', 1);
export const instanceNumber = integer('an instance number (0 is the first)', 0);

/** A TCP port, 1 to 65535. */
export function portNumber(value: string): number {
  const n = integer('a port number (1-65535)', 1)(value);
  if (n > 65_535) throw new InvalidArgumentError(`expected a port number (1-65535), got "${value}".`);
  return n;
}

/** A TCP port to listen on: 1-65535. */
export function tcpPort(value: string): number {
  const n = integer('a port number (1-65535)', 1)(value);
  if (n > 65_535) throw new InvalidArgumentError(`expected a port number (1-65535), got "${value}".`);
  return n;
}

/**
 * A repeatable option taking one name per flag or a comma list (`-p a -p b`, `-p a,b`): unlike a variadic option
 * it never swallows the positional arguments after it (README, "Commands": global options).
 */
export function nameList(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').map((name) => name.trim());
  // an empty name is a typo or an unset shell variable (`-p "$PKG"`): never read it as "every package"
  if (names.some((name) => !name)) throw new InvalidArgumentError(`expected a package name, got "${value}".`);
  return [...(previous ?? []), ...names];
}

/** `--since <duration>`: `30m`, `24h`, `2d` as milliseconds. */
export function duration(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError(`expected a duration such as 30m, 24h or 2d, got "${value}".`);
  return ms;
}

/** `--interval`, `--repeat`: `500ms`, `30s`, `5m`, `1h`; a bare number is milliseconds. */
export function interval(value: string): number {
  const ms = parseInterval(value);
  if (ms === undefined) throw new InvalidArgumentError(`expected a duration such as 500ms, 30s or 5m, got "${value}".`);
  return ms;
}

/** `--grep`: plain text, or `/regex/flags`; a regex that does not compile is a usage error, not a crash. */
export function grepPattern(value: string): string {
  const regex = /^\/(.+)\/([a-z]*)$/.exec(value);
  if (regex) {
    try {
      new RegExp(regex[1]!, regex[2]!.replace('g', ''));
    } catch (err) {
      throw new InvalidArgumentError(`"${value}" is not a valid regular expression (${(err as Error).message}).`);
    }
  }
  return value;
}
