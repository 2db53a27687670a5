import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { redact } from '../output/redact.js';

const TAIL_BYTES = 64 * 1024;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/;

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
  const lines: Array<{ at: string; text: string }> = [];
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
    let at = '';
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      at = TIMESTAMP.exec(line)?.[0] ?? at; // a stack trace's lines keep the time of the line that started it
      lines.push({ at, text: redact(line) });
    }
  });
  // PM2 (`time: true`) stamps each write: merge stdout and stderr by it (a stable sort keeps each file's order)
  return lines
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))
    .slice(-n)
    .map((l) => l.text);
}
