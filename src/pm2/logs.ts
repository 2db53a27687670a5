import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { redact } from '../output/redact.js';

const TAIL_BYTES = 64 * 1024;

/** PM2's log files of an app (merged across instances): stdout and stderr. */
export function pm2LogFiles(home: string, name: string): string[] {
  return [join(home, 'logs', `${name}-out.log`), join(home, 'logs', `${name}-error.log`)];
}

/** Sizes of the log files now, to read only what a new release writes. */
export function logOffsets(files: string[]): number[] {
  return files.map((f) => (existsSync(f) ? statSync(f).size : 0));
}

/** The last `n` lines of the files (from `offsets` on), redacted. */
export function readLogTail(files: string[], n: number, offsets?: number[]): string[] {
  const lines: string[] = [];
  files.forEach((file, i) => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    const from = Math.max(offsets?.[i] ?? 0, size - TAIL_BYTES);
    if (size <= from) return;
    const buf = Buffer.alloc(size - from);
    const fd = openSync(file, 'r');
    try {
      readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    for (const line of buf.toString('utf8').split('\n')) if (line.trim()) lines.push(redact(line));
  });
  // stdout first, then stderr: a crash's stack trace ends the excerpt
  return lines.slice(-n);
}
